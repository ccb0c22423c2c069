"""Every pod that runs in the namespace `storefleet`, as the cluster runs it:
the chart's own (rendered with helm template), the four functions as Knative
Serving makes their pods from knative/services.yaml, and the ApiServerSource's
receive adapter as Knative Eventing makes it. Shared by the NetworkPolicy
tests (which pods each policy selects) and the Pod Security test on the real
API server (each pod is admitted under `restricted`)."""

import copy
import os
import subprocess

import yaml

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
CHART = os.path.join(ROOT, "helm", "platform")
HELM = os.environ.get("HELM", "helm")
FUNCTIONS = ["create-store", "delete-store", "list-stores", "readiness-checker"]

# queue-proxy, the sidecar Knative Serving adds to every function pod, with
# the securityContext of knative.dev/serving v0.50.0
# pkg/reconciler/revision/resources/queue.go (queueSecurityContext) and its
# ports (pkg/networking/constants.go).
QUEUE_PROXY = {
    "name": "queue-proxy",
    "image": "gcr.io/knative-releases/knative.dev/serving/cmd/queue:v0.50.0",
    "ports": [{"name": "http-autometric", "containerPort": 9090}, {"name": "http-usermetric", "containerPort": 9091},
              {"name": "queue-port", "containerPort": 8012}, {"name": "https-port", "containerPort": 8112}],
    "securityContext": {"allowPrivilegeEscalation": False, "readOnlyRootFilesystem": True, "runAsNonRoot": True,
                        "capabilities": {"drop": ["ALL"]}, "seccompProfile": {"type": "RuntimeDefault"}},
}

# The receive adapter's pod (knative.dev/eventing v0.50.0
# pkg/reconciler/apiserversource/resources/receive_adapter.go and labels.go)
# for knative/apiserversource.yaml's source `store-resources`.
APISERVER_SOURCE_ADAPTER = {
    "labels": {"eventing.knative.dev/source": "apiserver-source-controller",
               "eventing.knative.dev/sourceName": "store-resources", "sidecar.istio.io/inject": "true"},
    "spec": {"serviceAccountName": "storefleet-apiserver-source", "enableServiceLinks": False,
             "containers": [{"name": "receive-adapter",
                             "image": "gcr.io/knative-releases/knative.dev/eventing/cmd/apiserver_receive_adapter:v0.50.0",
                             "ports": [{"name": "metrics", "containerPort": 9092},
                                       {"name": "probes", "containerPort": 8080}],
                             "securityContext": {"allowPrivilegeEscalation": False, "readOnlyRootFilesystem": True,
                                                 "runAsNonRoot": True, "capabilities": {"drop": ["ALL"]},
                                                 "seccompProfile": {"type": "RuntimeDefault"}}}]},
}


def render(values_file="values.yaml", *sets):
    cmd = [HELM, "template", "storefleet", CHART, "--namespace", "storefleet", "-f", os.path.join(CHART, values_file)]
    for s in sets:
        cmd += ["--set", s]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    return [d for d in yaml.safe_load_all(out) if d]


def knative_services():
    with open(os.path.join(ROOT, "knative", "services.yaml")) as fh:
        return {d["metadata"]["name"]: d for d in yaml.safe_load_all(fh)
                if d and d.get("kind") == "Service" and d["apiVersion"].startswith("serving.knative.dev")}


def function_pod(service):
    """The pod Knative Serving runs for a revision of `service`: the template's
    labels plus Knative's own, the user container (its readiness probe moves
    to queue-proxy; its port becomes user-port) and queue-proxy."""
    name = service["metadata"]["name"]
    template = copy.deepcopy(service["spec"]["template"])
    revision = f"{name}-00001"
    labels = {**template["metadata"].get("labels", {}), "app": revision,
              "serving.knative.dev/service": name, "serving.knative.dev/configuration": name,
              "serving.knative.dev/revision": revision,
              "serving.knative.dev/serviceUID": "00000000-0000-0000-0000-000000000000",
              "serving.knative.dev/configurationUID": "00000000-0000-0000-0000-000000000000",
              "serving.knative.dev/revisionUID": "00000000-0000-0000-0000-000000000000"}
    spec = template["spec"]
    for knative_only in ("containerConcurrency", "timeoutSeconds", "responseStartTimeoutSeconds",
                         "idleTimeoutSeconds"):
        spec.pop(knative_only, None)
    spec["enableServiceLinks"] = False
    for c in spec["containers"]:
        c.pop("readinessProbe", None)
        c["ports"] = [{"name": "user-port", "containerPort": p["containerPort"]} for p in c.get("ports", [])]
    spec["containers"].append(copy.deepcopy(QUEUE_PROXY))
    return labels, spec


def platform_pods(values_file="values.yaml", *sets):
    """{name: (pod labels, pod spec)} of every pod in `storefleet`."""
    pods = {}
    for d in render(values_file, *sets):
        if d["kind"] in ("Deployment", "StatefulSet", "Job"):
            template = copy.deepcopy(d["spec"]["template"])
            # the StatefulSet controller adds a claim volume per template
            for claim in d["spec"].get("volumeClaimTemplates", []):
                name = claim["metadata"]["name"]
                template["spec"].setdefault("volumes", []).append(
                    {"name": name, "persistentVolumeClaim": {"claimName": f"{name}-{d['metadata']['name']}-0"}})
            pods[d["metadata"]["name"]] = (template["metadata"]["labels"], template["spec"])
    for name, service in knative_services().items():
        pods[name] = function_pod(service)
    pods["apiserver-source-adapter"] = (dict(APISERVER_SOURCE_ADAPTER["labels"]),
                                        copy.deepcopy(APISERVER_SOURCE_ADAPTER["spec"]))
    return pods

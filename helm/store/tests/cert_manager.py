"""The objects cert-manager's ACME HTTP-01 solver creates in a store namespace,
built as cert-manager v1.18.2 builds them (the version docs/production.md
installs), so the tests judge the real thing:

  pod      pkg/issuer/acme/http/pod.go      buildDefaultPod, podLabels
  service  pkg/issuer/acme/http/service.go  buildService
  ingress  pkg/issuer/acme/http/ingress.go  buildIngressResource, ingressPath
  defaults internal/apis/config/controller/v1alpha1/defaults.go (solver
           resources 10m/64Mi, limits 100m/64Mi, solverRunAsNonRoot true),
           internal/controller/feature/features.go (ACMEHTTP01IngressPathTypeExact:
           Beta, on by default), solver.HTTPChallengePath, port 8089.
v1.19 to v1.21.1 build the same objects (only extra labels and a
runtimeClassName when configured). Left out: the ownerReference to the
Challenge, whose CRD the test cluster does not have; admission does not look
at it.
"""

import zlib

VERSION = "v1.18.2"
PORT = 8089
SOLVER_LABEL = "acme.cert-manager.io/http01-solver"


def labels(domain, token):
    # adler32 of the domain and the token, in decimal (fmt "%d").
    return {"acme.cert-manager.io/http-domain": str(zlib.adler32(domain.encode())),
            "acme.cert-manager.io/http-token": str(zlib.adler32(token.encode())),
            SOLVER_LABEL: "true"}


def pod(domain, token, key):
    return {
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"generateName": "cm-acme-http-solver-", "labels": labels(domain, token),
                     "annotations": {"sidecar.istio.io/inject": "false",
                                     "cluster-autoscaler.kubernetes.io/safe-to-evict": "true"}},
        "spec": {
            "automountServiceAccountToken": False,
            "nodeSelector": {"kubernetes.io/os": "linux"},
            "restartPolicy": "OnFailure",
            "enableServiceLinks": False,
            "securityContext": {"runAsNonRoot": True, "seccompProfile": {"type": "RuntimeDefault"}},
            "containers": [{
                "name": "acmesolver",
                "image": f"quay.io/jetstack/cert-manager-acmesolver:{VERSION}",
                "imagePullPolicy": "IfNotPresent",
                "args": [f"--listen-port={PORT}", f"--domain={domain}", f"--token={token}", f"--key={key}"],
                "resources": {"requests": {"cpu": "10m", "memory": "64Mi"},
                              "limits": {"cpu": "100m", "memory": "64Mi"}},
                "ports": [{"name": "http", "containerPort": PORT}],
                "securityContext": {"readOnlyRootFilesystem": True, "allowPrivilegeEscalation": False,
                                    "capabilities": {"drop": ["ALL"]}},
            }],
        },
    }


def service(domain, token, service_type="ClusterIP"):
    """service_type: the ClusterIssuer's http01.ingress.serviceType (unset: NodePort)."""
    return {
        "apiVersion": "v1", "kind": "Service",
        "metadata": {"generateName": "cm-acme-http-solver-", "labels": labels(domain, token),
                     "annotations": {"auth.istio.io/8089": "NONE"}},
        "spec": {"type": service_type,
                 "ports": [{"name": "http", "port": PORT, "targetPort": PORT}],
                 "selector": labels(domain, token)},
    }


def ingress(domain, token, service_name, ingress_class_name):
    """With the ClusterIssuer's http01.ingress.ingressClassName set (docs/production.md)."""
    return {
        "apiVersion": "networking.k8s.io/v1", "kind": "Ingress",
        "metadata": {"generateName": "cm-acme-http-solver-", "labels": labels(domain, token),
                     "annotations": {"nginx.ingress.kubernetes.io/whitelist-source-range": "0.0.0.0/0,::/0"}},
        "spec": {"ingressClassName": ingress_class_name,
                 "rules": [{"host": domain, "http": {"paths": [{
                     "path": f"/.well-known/acme-challenge/{token}", "pathType": "Exact",
                     "backend": {"service": {"name": service_name, "port": {"number": PORT}}}}]}}]},
    }


def with_limit_range_defaults(pod_spec, limit_range):
    """The pod spec as the LimitRanger admission plugin leaves it: a container
    without a request or limit of a resource gets the LimitRange's
    defaultRequest / default (the solver sets no ephemeral-storage)."""
    item = next(i for i in limit_range["spec"]["limits"] if i["type"] == "Container")
    spec = {**pod_spec, "containers": []}
    for c in pod_spec["containers"]:
        resources = {kind: dict(c.get("resources", {}).get(kind, {})) for kind in ("requests", "limits")}
        for kind, defaults in (("requests", item.get("defaultRequest", {})), ("limits", item.get("default", {}))):
            for resource, value in defaults.items():
                resources[kind].setdefault(resource, value)
        spec["containers"].append({**c, "resources": resources})
    return spec

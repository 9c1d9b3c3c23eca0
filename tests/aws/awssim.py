"""What moto lacks for sagesync's tests, loaded into moto's own process.

moto answers UpdateEndpoint with an error, puts every endpoint InService at
once and quietly overwrites a model, endpoint config or endpoint created
twice. Real SageMaker takes minutes, fails deploys, rolls failed updates
back and refuses duplicates. This module patches moto's SageMaker backend
to behave as SageMaker documents it, and wraps moto's WSGI application with
fault injection and call counters (tests/aws/README.md has the details):

- UpdateEndpoint, with SageMaker's validation and errors;
- monitoring schedules (Create/Describe/Update/Delete/ListMonitoringSchedules),
  with their tags;
- timed states: Creating, Updating, RollingBack and Deleting last
  SIM_STATE_SECONDS (default 2, 0 = immediate) of a simulated clock that
  tests may move forward (POST /_sim/advance);
- deploy failures: a container whose ModelDataUrl object is missing from
  moto's S3, or whose image matches SIM_FAIL_IMAGE_REGEX, fails to start;
  so does an update while one of its AutoRollbackConfiguration alarms is
  in ALARM;
- /_sim/faults, /_sim/calls, /_sim/reset, /_sim/advance;
- DescribeScalableTargets pages that move on (moto's repeat forever);
- EventBridge TestEventPattern (moto answers it with an empty body),
  matched by moto's own event-pattern engine, the one its rules use.

Transitions are computed when an endpoint is looked at, from the clock,
not by background threads: the result is the same and nothing races.
"""

import datetime
import io
import json
import os
import re
import socket
import threading
import time
from typing import Any
from urllib.parse import parse_qs

from moto.core.responses import ActionResult, EmptyResult
from moto.core.utils import utcnow
from moto.sagemaker import models as sm_models
from moto.sagemaker import responses as sm_responses
from moto.sagemaker.exceptions import ResourceInUseException, ResourceNotFound, ValidationError
from moto.sagemaker.utils import arn_formatter
from moto.utilities.paginator import paginate

STATE_SECONDS = float(os.environ.get("SIM_STATE_SECONDS", "2"))
_fail_image = os.environ.get("SIM_FAIL_IMAGE_REGEX", "")
FAIL_IMAGE = re.compile(_fail_image) if _fail_image else None

# ---- the simulated clock ------------------------------------------------


class Clock:
    """Real time plus an offset that POST /_sim/advance increases."""

    def __init__(self) -> None:
        self.offset = 0.0
        self.lock = threading.Lock()

    def now(self) -> datetime.datetime:
        with self.lock:
            offset = self.offset
        return utcnow() + datetime.timedelta(seconds=offset)

    def advance(self, seconds: float) -> None:
        with self.lock:
            self.offset += seconds


CLOCK = Clock()

# ---- endpoint lifecycle -------------------------------------------------


class Pending:
    """A transition that completes at `due` (simulated time)."""

    def __init__(self, kind: str, due: datetime.datetime, **details: Any):
        self.kind = kind  # create | update | rollback | delete
        self.due = due
        self.details = details


# endpoint ARN -> Pending; the backend lock guards both
PENDING: dict[str, Pending] = {}
LOCK = threading.RLock()


def _later() -> datetime.datetime:
    return CLOCK.now() + datetime.timedelta(seconds=STATE_SECONDS)


def _s3_object_exists(account_id: str, url: str) -> bool:
    from moto.s3.models import s3_backends
    from moto.s3.exceptions import MissingBucket

    bucket, _, key = url[len("s3://"):].partition("/")
    backend = s3_backends[account_id]["aws"]
    try:
        return backend.get_object(bucket, key) is not None
    except MissingBucket:
        return False


def _containers(backend: Any, model: Any) -> list[dict[str, Any]]:
    containers = list(model.containers or [])
    if model.primary_container:
        containers.insert(0, model.primary_container)
    out = []
    for c in containers:
        ref = c.get("ModelPackageName")
        if ref:
            for pkg in backend.model_packages.values():
                if ref in (pkg.arn, pkg.model_package_name):
                    spec = pkg.inference_specification or {}
                    out.extend(spec.get("Containers", []))
        else:
            out.append(c)
    return out


def _deploy_failure(backend: Any, config_name: str) -> str | None:
    """Why SageMaker would fail to deploy this config, or None."""
    config = backend.endpoint_configs.get(config_name)
    if config is None:
        return f"Endpoint configuration {config_name} was deleted."
    for variant in config.production_variants:
        name = variant.get("VariantName")
        model = backend._models.get(variant.get("ModelName"))
        if model is None:
            return (
                f"Could not find model \"{variant.get('ModelName')}\" "
                f"for production variant {name}."
            )
        for i, c in enumerate(_containers(backend, model), 1):
            url = c.get("ModelDataUrl") or ""
            if url.startswith("s3://") and not _s3_object_exists(
                backend.account_id, url
            ):
                return (
                    f'Failed to download model data for container "container_{i}" '
                    f'from URL: "{url}". Please ensure that there is an object '
                    "located at the URL and that the role passed to CreateModel "
                    "has permissions to download the object."
                )
            image = c.get("Image") or ""
            if FAIL_IMAGE and FAIL_IMAGE.search(image):
                return (
                    f"The primary container for production variant {name} did "
                    "not pass the ping health check. Please check CloudWatch "
                    "logs for this endpoint."
                )
    return None


def _alarms_firing(backend: Any, deployment_config: dict[str, Any]) -> list[str]:
    from moto.cloudwatch.models import cloudwatch_backends

    names = [
        a.get("AlarmName")
        for a in (deployment_config or {})
        .get("AutoRollbackConfiguration", {})
        .get("Alarms", [])
    ]
    if not names:
        return []
    cw = cloudwatch_backends[backend.account_id][backend.region_name]
    return [n for n in names if n in cw.alarms and cw.alarms[n].state_value == "ALARM"]


def _variants(config: Any, endpoint: Any, retain: bool, exclude: set[str]) -> list:
    """The endpoint's variants after an update to `config`."""
    new = endpoint._process_production_variants(config.production_variants)
    if not retain:
        return new
    old = {v["VariantName"]: v for v in endpoint.production_variants}
    for v in new:
        cur = old.get(v["VariantName"])
        if not cur:
            continue
        if "DesiredInstanceCount" not in exclude:
            for k in ("CurrentInstanceCount", "DesiredInstanceCount"):
                if k in cur:
                    v[k] = cur[k]
        if "DesiredWeight" not in exclude:
            for k in ("CurrentWeight", "DesiredWeight"):
                if k in cur:
                    v[k] = cur[k]
    return new


def _complete(backend: Any, endpoint: Any, p: Pending) -> None:
    now = p.due
    arn = endpoint.arn
    if p.kind == "create":
        reason = _deploy_failure(backend, endpoint.endpoint_config_name)
        endpoint.endpoint_status = "Failed" if reason else "InService"
        endpoint.failure_reason = reason
        del PENDING[arn]
    elif p.kind == "update":
        reason = _deploy_failure(backend, p.details["config"])
        firing = _alarms_firing(backend, p.details["deployment_config"])
        if firing and not reason:
            reason = (
                "Endpoint update was rolled back because alarm(s) "
                f"{', '.join(firing)} went into ALARM state."
            )
        if reason:
            endpoint.endpoint_status = "RollingBack"
            endpoint.failure_reason = reason
            PENDING[arn] = Pending(
                "rollback", now + datetime.timedelta(seconds=STATE_SECONDS)
            )
        else:
            config = backend.endpoint_configs[p.details["config"]]
            endpoint.production_variants = _variants(
                config, endpoint, p.details["retain"], p.details["exclude"]
            )
            endpoint.endpoint_config_name = p.details["config"]
            endpoint.data_capture_config = config.data_capture_config
            endpoint.endpoint_status = "InService"
            endpoint.failure_reason = None
            del PENDING[arn]
        if p.details["deployment_config"]:
            endpoint.last_deployment_config = p.details["deployment_config"]
        endpoint.pending_deployment_summary = None
    elif p.kind == "rollback":
        # back on the configuration it had; FailureReason says why
        endpoint.endpoint_status = "InService"
        del PENDING[arn]
    elif p.kind == "delete":
        backend.endpoints.pop(endpoint.endpoint_name, None)
        del PENDING[arn]
        return
    endpoint.last_modified_time = now


def advance(backend: Any) -> None:
    """Completes every transition of this backend that is due."""
    with LOCK:
        now = CLOCK.now()
        for endpoint in list(backend.endpoints.values()):
            p = PENDING.get(endpoint.arn)
            while p is not None and p.due <= now:
                _complete(backend, endpoint, p)
                p = PENDING.get(endpoint.arn)


def _endpoint_arn(backend: Any, name: str) -> str:
    return arn_formatter("endpoint", name, backend.account_id, backend.region_name)


# ---- the patched backend ------------------------------------------------

Backend = sm_models.SageMakerModelBackend
_orig = {
    name: getattr(Backend, name)
    for name in (
        "create_model",
        "create_endpoint_config",
        "create_endpoint",
        "describe_endpoint",
        "delete_endpoint",
        "list_endpoints",
    )
}


def create_model(self: Any, model_name: str, *args: Any, **kwargs: Any) -> Any:
    with LOCK:
        if model_name in self._models:
            arn = arn_formatter("model", model_name, self.account_id, self.region_name)
            raise ValidationError(message=f'Cannot create already existing model "{arn}".')
        return _orig["create_model"](self, model_name, *args, **kwargs)


def create_endpoint_config(self: Any, endpoint_config_name: str, *args: Any, **kwargs: Any) -> Any:
    with LOCK:
        if endpoint_config_name in self.endpoint_configs:
            arn = arn_formatter(
                "endpoint-config", endpoint_config_name, self.account_id, self.region_name
            )
            raise ValidationError(
                message=f'Cannot create already existing endpoint configuration "{arn}".'
            )
        return _orig["create_endpoint_config"](self, endpoint_config_name, *args, **kwargs)


def create_endpoint(self: Any, endpoint_name: str, endpoint_config_name: str, tags: Any) -> Any:
    with LOCK:
        advance(self)
        if endpoint_name in self.endpoints:
            arn = _endpoint_arn(self, endpoint_name)
            raise ValidationError(message=f'Cannot create already existing endpoint "{arn}".')
        endpoint = _orig["create_endpoint"](self, endpoint_name, endpoint_config_name, tags)
        endpoint.endpoint_status = "Creating"
        endpoint.last_modified_time = endpoint.creation_time = CLOCK.now()
        PENDING[endpoint.arn] = Pending("create", _later())
        advance(self)
        return endpoint


def describe_endpoint(self: Any, endpoint_name: str) -> Any:
    with LOCK:
        advance(self)
        return _orig["describe_endpoint"](self, endpoint_name)


def list_endpoints(self: Any, *args: Any, **kwargs: Any) -> Any:
    with LOCK:
        advance(self)
        return _orig["list_endpoints"](self, *args, **kwargs)


def delete_endpoint(self: Any, endpoint_name: str) -> None:
    with LOCK:
        advance(self)
        endpoint = self.endpoints.get(endpoint_name)
        if endpoint is None:
            # raises SageMaker's "Could not find endpoint"
            return _orig["delete_endpoint"](self, endpoint_name)
        endpoint.endpoint_status = "Deleting"
        endpoint.last_modified_time = CLOCK.now()
        PENDING[endpoint.arn] = Pending("delete", _later())
        advance(self)


def update_endpoint(
    self: Any,
    endpoint_name: str,
    endpoint_config_name: str,
    deployment_config: dict[str, Any] | None,
    retain: bool,
    exclude: list[dict[str, str]] | None,
) -> Any:
    with LOCK:
        advance(self)
        endpoint = self.endpoints.get(endpoint_name)
        arn = _endpoint_arn(self, endpoint_name)
        if endpoint is None:
            raise ValidationError(message=f'Could not find endpoint "{arn}".')
        if endpoint_config_name not in self.endpoint_configs:
            config_arn = arn_formatter(
                "endpoint-config", endpoint_config_name, self.account_id, self.region_name
            )
            raise ValidationError(
                message=f'Could not find endpoint configuration "{config_arn}".'
            )
        if endpoint.endpoint_status == "Failed":
            raise ValidationError(
                message=f'Cannot update endpoint "{arn}" in status Failed; delete and create it again.'
            )
        if endpoint.endpoint_status != "InService":
            raise ValidationError(message=f'Cannot update in-progress endpoint "{arn}".')
        dc = deployment_config or {}
        if dc.get("BlueGreenUpdatePolicy") and dc.get("RollingUpdatePolicy"):
            raise ValidationError(
                message="DeploymentConfig cannot have both BlueGreenUpdatePolicy and RollingUpdatePolicy."
            )
        if exclude and not retain:
            raise ValidationError(
                message="ExcludeRetainedVariantProperties can be set only when RetainAllVariantProperties is true."
            )
        config = self.endpoint_configs[endpoint_config_name]
        now = CLOCK.now()
        endpoint.endpoint_status = "Updating"
        endpoint.failure_reason = None
        endpoint.last_modified_time = now
        endpoint.pending_deployment_summary = {
            "EndpointConfigName": endpoint_config_name,
            "ProductionVariants": [
                {"VariantName": v["VariantName"]} for v in config.production_variants
            ],
            "StartTime": now,
        }
        PENDING[endpoint.arn] = Pending(
            "update",
            _later(),
            config=endpoint_config_name,
            deployment_config=deployment_config,
            retain=bool(retain),
            exclude={e.get("VariantPropertyType") for e in exclude or []},
        )
        advance(self)
        return endpoint


for _name, _fn in (
    ("create_model", create_model),
    ("create_endpoint_config", create_endpoint_config),
    ("create_endpoint", create_endpoint),
    ("describe_endpoint", describe_endpoint),
    ("list_endpoints", list_endpoints),
    ("delete_endpoint", delete_endpoint),
    ("update_endpoint", update_endpoint),
):
    setattr(Backend, _name, _fn)


def _response_update_endpoint(self: Any) -> ActionResult:
    endpoint = self.sagemaker_backend.update_endpoint(
        endpoint_name=self._get_param("EndpointName"),
        endpoint_config_name=self._get_param("EndpointConfigName"),
        deployment_config=self._get_param("DeploymentConfig"),
        retain=self._get_param("RetainAllVariantProperties"),
        exclude=self._get_param("ExcludeRetainedVariantProperties"),
    )
    return ActionResult({"EndpointArn": endpoint.arn})


sm_responses.SageMakerResponse.update_endpoint = _response_update_endpoint

# ---- monitoring schedules ------------------------------------------------

# moto has Model Monitor's job definitions but not the schedules that run
# them. These follow the API model: names as its pattern, the cron forms
# SageMaker documents, ResourceInUse and ResourceNotFound, paged lists.

NAME_PATTERN = r"[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}"
MONITORING_TYPES = ("DataQuality", "ModelQuality", "ModelBias", "ModelExplainability")
SCHEDULE_STATUSES = ("Pending", "Failed", "Scheduled", "Stopped")
# hourly "cron(0 * ? * * *)", daily at H "cron(0 H ? * * *)", every N
# hours from H "cron(0 H/N ? * * *)": the only forms SageMaker accepts
CRON = re.compile(r"cron\(0 (?:\*|(\d{1,2})(?:/(\d{1,2}))?) \? \* \* \*\)")
# MonitoringType -> (backend attribute, job input attribute) of moto's
# job definitions, to find the endpoint a named definition watches
JOB_DEFINITIONS = {
    "DataQuality": ("data_quality_job_definitions", "data_quality_job_input"),
    "ModelQuality": ("model_quality_job_definitions", "model_quality_job_input"),
    "ModelBias": ("model_bias_job_definitions", "model_bias_job_input"),
    "ModelExplainability": (
        "model_explainability_job_definitions",
        "model_explainability_job_input",
    ),
}


def _invalid(value: Any, member: str, constraint: str) -> ValidationError:
    """The service's own wording for a request that breaks the model."""
    return ValidationError(
        message=f"1 validation error detected: Value '{value}' at '{member}' "
        f"failed to satisfy constraint: Member must {constraint}"
    )


def _check_name(name: Any, member: str = "monitoringScheduleName") -> None:
    if not isinstance(name, str) or not 1 <= len(name) <= 63:
        raise _invalid(name, member, "have length between 1 and 63")
    if not re.fullmatch(NAME_PATTERN, name):
        raise _invalid(name, member, f"satisfy regular expression pattern: {NAME_PATTERN}")


def _check_enum(value: Any, member: str, allowed: tuple[str, ...]) -> None:
    if value is not None and value not in allowed:
        raise _invalid(value, member, f"satisfy enum value set: [{', '.join(allowed)}]")


def _check_schedule_expression(schedule: dict[str, Any]) -> None:
    expr = schedule.get("ScheduleExpression")
    if expr == "NOW":
        # a one-time run needs the window it analyses
        if not (schedule.get("DataAnalysisStartTime") and schedule.get("DataAnalysisEndTime")):
            raise ValidationError(
                message="DataAnalysisStartTime and DataAnalysisEndTime are required "
                "when ScheduleExpression is NOW."
            )
        return
    m = CRON.fullmatch(expr) if isinstance(expr, str) else None
    hour, step = (m.group(1), m.group(2)) if m else (None, None)
    if not m or (hour and int(hour) > 23) or (step and not 1 <= int(step) <= 24):
        raise ValidationError(
            message=f'Invalid ScheduleExpression "{expr}". Supported expressions are '
            "cron(0 * ? * * *) (hourly), cron(0 H ? * * *) (daily at hour H, 0-23), "
            "cron(0 H/N ? * * *) (every N hours from hour H, N 1-24) and NOW."
        )


def _check_config(config: Any) -> dict[str, Any]:
    """The config as stored: validated, MonitoringType filled in."""
    if not isinstance(config, dict):
        raise ValidationError(message="MonitoringScheduleConfig is required.")
    config = dict(config)
    if config.get("ScheduleConfig") is not None:
        _check_schedule_expression(config["ScheduleConfig"])
    named = config.get("MonitoringJobDefinitionName")
    inline = config.get("MonitoringJobDefinition")
    if bool(named) == bool(inline):
        raise ValidationError(
            message="Exactly one of MonitoringJobDefinition and "
            "MonitoringJobDefinitionName must be provided."
        )
    if named:
        _check_name(named, "monitoringScheduleConfig.monitoringJobDefinitionName")
    _check_enum(
        config.get("MonitoringType"), "monitoringScheduleConfig.monitoringType", MONITORING_TYPES
    )
    # SageMaker reports DataQuality for a schedule that does not say
    config.setdefault("MonitoringType", "DataQuality")
    return config


def _watched_endpoint(backend: Any, config: dict[str, Any]) -> str | None:
    """The endpoint a schedule's job reads, as far as moto knows it."""
    named = config.get("MonitoringJobDefinitionName")
    if named:
        store, field = JOB_DEFINITIONS[config["MonitoringType"]]
        definition = getattr(backend, store, {}).get(named)
        job_input = getattr(definition, field, None) or {}
        return job_input.get("EndpointInput", {}).get("EndpointName")
    inputs = config["MonitoringJobDefinition"].get("MonitoringInputs") or [{}]
    return inputs[0].get("EndpointInput", {}).get("EndpointName")


class MonitoringSchedule:
    def __init__(self, backend: Any, name: str, config: dict[str, Any], tags: list) -> None:
        self.name = name
        # SageMaker lower-cases the name in its ARNs
        self.arn = arn_formatter(
            "monitoring-schedule", name.lower(), backend.account_id, backend.region_name
        )
        self.tags = list(tags or [])
        self.status = "Scheduled"
        self.creation_time = CLOCK.now()
        self.configure(backend, config)

    def configure(self, backend: Any, config: dict[str, Any]) -> None:
        self.config = config
        self.endpoint_name = _watched_endpoint(backend, config)
        self.last_modified_time = CLOCK.now()

    def summary(self) -> dict[str, Any]:
        out = {
            "MonitoringScheduleName": self.name,
            "MonitoringScheduleArn": self.arn,
            "CreationTime": self.creation_time,
            "LastModifiedTime": self.last_modified_time,
            "MonitoringScheduleStatus": self.status,
            "EndpointName": self.endpoint_name,
            "MonitoringJobDefinitionName": self.config.get("MonitoringJobDefinitionName"),
            "MonitoringType": self.config["MonitoringType"],
        }
        return {k: v for k, v in out.items() if v is not None}

    def describe(self) -> dict[str, Any]:
        out = self.summary()
        out.pop("MonitoringJobDefinitionName", None)
        out["MonitoringScheduleConfig"] = self.config
        return out


def _schedules(backend: Any) -> dict[str, MonitoringSchedule]:
    """This backend's schedules by lower-cased name (names differing in
    case only share an ARN, so SageMaker treats them as one)."""
    return backend.__dict__.setdefault("monitoring_schedules", {})


def _schedule(backend: Any, name: Any) -> MonitoringSchedule:
    _check_name(name)
    schedule = _schedules(backend).get(name.lower())
    if schedule is None:
        raise ResourceNotFound(message=f"Monitoring schedule {name} does not exist.")
    return schedule


def create_monitoring_schedule(self: Any, name: Any, config: Any, tags: Any) -> MonitoringSchedule:
    _check_name(name)
    config = _check_config(config)
    with LOCK:
        if name.lower() in _schedules(self):
            raise ResourceInUseException(message=f"Monitoring schedule {name} already exists.")
        schedule = MonitoringSchedule(self, name, config, tags or [])
        _schedules(self)[name.lower()] = schedule
        return schedule


def describe_monitoring_schedule(self: Any, name: Any) -> MonitoringSchedule:
    with LOCK:
        return _schedule(self, name)


def update_monitoring_schedule(self: Any, name: Any, config: Any) -> MonitoringSchedule:
    with LOCK:
        schedule = _schedule(self, name)
        schedule.configure(self, _check_config(config))
        return schedule


def delete_monitoring_schedule(self: Any, name: Any) -> None:
    with LOCK:
        del _schedules(self)[_schedule(self, name).name.lower()]


def _as_time(value: Any) -> datetime.datetime | None:
    """A request timestamp (epoch seconds or ISO 8601) as naive UTC, as moto keeps times."""
    if value is None:
        return None
    if isinstance(value, (int, float)):
        return datetime.datetime.fromtimestamp(value, datetime.timezone.utc).replace(tzinfo=None)
    parsed = datetime.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    if parsed.tzinfo:
        parsed = parsed.astimezone(datetime.timezone.utc).replace(tzinfo=None)
    return parsed


def _matches(s: MonitoringSchedule, f: dict[str, Any]) -> bool:
    times = {k: _as_time(f.get(k)) for k in (
        "CreationTimeBefore", "CreationTimeAfter", "LastModifiedTimeBefore", "LastModifiedTimeAfter")}
    return all((
        not f.get("EndpointName") or s.endpoint_name == f["EndpointName"],
        not f.get("NameContains") or f["NameContains"] in s.name,
        not f.get("StatusEquals") or s.status == f["StatusEquals"],
        not f.get("MonitoringJobDefinitionName")
        or s.config.get("MonitoringJobDefinitionName") == f["MonitoringJobDefinitionName"],
        not f.get("MonitoringTypeEquals") or s.config["MonitoringType"] == f["MonitoringTypeEquals"],
        not times["CreationTimeBefore"] or s.creation_time < times["CreationTimeBefore"],
        not times["CreationTimeAfter"] or s.creation_time > times["CreationTimeAfter"],
        not times["LastModifiedTimeBefore"] or s.last_modified_time < times["LastModifiedTimeBefore"],
        not times["LastModifiedTimeAfter"] or s.last_modified_time > times["LastModifiedTimeAfter"],
    ))


# moto's own paginator: its tokens name the next item, so they move on;
# filters and order are part of the request it checks a token against
SCHEDULE_PAGES = {
    "list_monitoring_schedules": {
        "input_token": "next_token",
        "limit_key": "max_results",
        "limit_default": 10,  # the API's default
        "unique_attribute": "arn",
    }
}
SORT_KEYS = {
    "Name": lambda s: (s.name, s.arn),
    "CreationTime": lambda s: (s.creation_time, s.arn),
    "Status": lambda s: (s.status, s.creation_time, s.arn),
}


@paginate(pagination_model=SCHEDULE_PAGES)
def list_monitoring_schedules(
    self: Any, filters: dict[str, Any], sort_by: str | None, sort_order: str | None
) -> list[MonitoringSchedule]:
    _check_enum(sort_by, "sortBy", tuple(SORT_KEYS))
    _check_enum(sort_order, "sortOrder", ("Ascending", "Descending"))
    _check_enum(filters.get("StatusEquals"), "statusEquals", SCHEDULE_STATUSES)
    _check_enum(filters.get("MonitoringTypeEquals"), "monitoringTypeEquals", MONITORING_TYPES)
    with LOCK:
        found = [s for s in _schedules(self).values() if _matches(s, filters)]
    return sorted(
        found,
        key=SORT_KEYS[sort_by or "CreationTime"],
        reverse=(sort_order or "Descending") == "Descending",
    )


_orig_resource_from_arn = Backend._get_resource_from_arn


def _get_resource_from_arn(self: Any, arn: str) -> Any:
    """moto's tag operations find a resource here; schedules are ours."""
    kind, _, name = arn.split(":")[-1].partition("/")
    if kind != "monitoring-schedule":
        return _orig_resource_from_arn(self, arn)
    schedule = _schedules(self).get(name.lower())
    if schedule is None:
        raise ValidationError(message=f"Could not find {kind} with name {name}")
    return schedule


for _name, _fn in (
    ("create_monitoring_schedule", create_monitoring_schedule),
    ("describe_monitoring_schedule", describe_monitoring_schedule),
    ("update_monitoring_schedule", update_monitoring_schedule),
    ("delete_monitoring_schedule", delete_monitoring_schedule),
    ("list_monitoring_schedules", list_monitoring_schedules),
    ("_get_resource_from_arn", _get_resource_from_arn),
):
    setattr(Backend, _name, _fn)

LIST_FILTERS = (
    "EndpointName", "NameContains", "StatusEquals", "MonitoringJobDefinitionName",
    "MonitoringTypeEquals", "CreationTimeBefore", "CreationTimeAfter",
    "LastModifiedTimeBefore", "LastModifiedTimeAfter",
)


def _response_create_schedule(self: Any) -> ActionResult:
    schedule = self.sagemaker_backend.create_monitoring_schedule(
        self._get_param("MonitoringScheduleName"),
        self._get_param("MonitoringScheduleConfig"),
        self._get_param("Tags", []),
    )
    return ActionResult({"MonitoringScheduleArn": schedule.arn})


def _response_describe_schedule(self: Any) -> ActionResult:
    schedule = self.sagemaker_backend.describe_monitoring_schedule(
        self._get_param("MonitoringScheduleName")
    )
    return ActionResult(schedule.describe())


def _response_update_schedule(self: Any) -> ActionResult:
    schedule = self.sagemaker_backend.update_monitoring_schedule(
        self._get_param("MonitoringScheduleName"),
        self._get_param("MonitoringScheduleConfig"),
    )
    return ActionResult({"MonitoringScheduleArn": schedule.arn})


def _response_delete_schedule(self: Any) -> ActionResult:
    self.sagemaker_backend.delete_monitoring_schedule(self._get_param("MonitoringScheduleName"))
    return EmptyResult()


def _response_list_schedules(self: Any) -> ActionResult:
    max_results = self._get_param("MaxResults")
    if max_results is not None and not 1 <= int(max_results) <= 100:
        raise _invalid(max_results, "maxResults", "have value between 1 and 100")
    schedules, token = self.sagemaker_backend.list_monitoring_schedules(
        filters={k: self._get_param(k) for k in LIST_FILTERS if self._get_param(k) is not None},
        sort_by=self._get_param("SortBy"),
        sort_order=self._get_param("SortOrder"),
        next_token=self._get_param("NextToken"),
        max_results=max_results,
    )
    answer: dict[str, Any] = {"MonitoringScheduleSummaries": [s.summary() for s in schedules]}
    if token:
        answer["NextToken"] = token
    return ActionResult(answer)


for _name, _fn in (
    ("create_monitoring_schedule", _response_create_schedule),
    ("describe_monitoring_schedule", _response_describe_schedule),
    ("update_monitoring_schedule", _response_update_schedule),
    ("delete_monitoring_schedule", _response_delete_schedule),
    ("list_monitoring_schedules", _response_list_schedules),
):
    setattr(sm_responses.SageMakerResponse, _name, _fn)

# ---- EventBridge TestEventPattern ----------------------------------------

from moto.events import models as ev_models
from moto.events import responses as ev_responses
from moto.core.exceptions import JsonRESTError

# the members AWS requires of the event under test
EVENT_MEMBERS = ("id", "account", "source", "time", "region", "resources", "detail-type")


def _response_test_event_pattern(self: Any) -> tuple[str, dict[str, Any]]:
    pattern = self._get_param("EventPattern")
    try:
        event = json.loads(self._get_param("Event") or "")
    except ValueError:
        event = None
    if not isinstance(event, dict) or any(m not in event for m in EVENT_MEMBERS):
        raise JsonRESTError("InvalidEventPatternException", "Parameter Event is not valid.")
    matched = ev_models.EventPattern.load(pattern).matches_event(event)
    return json.dumps({"Result": bool(matched)}), self.response_headers


ev_responses.EventsHandler.test_event_pattern = _response_test_event_pattern

# ---- IAM action names ---------------------------------------------------

# moto names an action by the request's signing name, but IAM's prefix is
# not always that: CloudWatch signs as "monitoring" and its actions are
# "cloudwatch:DescribeAlarms". Policies written for AWS must work here.
IAM_PREFIXES = {"monitoring": "cloudwatch"}


def _patch_iam_actions() -> None:
    from moto.iam import access_control

    original = access_control.IAMRequestBase.__init__

    def init(self: Any, *args: Any, **kwargs: Any) -> None:
        original(self, *args, **kwargs)
        prefix, _, name = self._action.partition(":")
        if prefix in IAM_PREFIXES:
            self._action = f"{IAM_PREFIXES[prefix]}:{name}"

    access_control.IAMRequestBase.__init__ = init


_patch_iam_actions()

# ---- Application Auto Scaling pagination --------------------------------

# moto's DescribeScalableTargets answers NextToken "49" on every page
# after the first, so a client that follows it never ends once there are
# more than 100 targets. AWS's token moves on; so does this one.


def _patch_scalable_target_pages() -> None:
    from moto.applicationautoscaling import responses as aas

    original = aas.ApplicationAutoScalingResponse.describe_scalable_targets

    def describe(self: Any) -> str:
        answer = json.loads(original(self))
        marker = self._get_param("NextToken")
        size = self._get_int_param("MaxResults") or 50
        if answer.get("NextToken") is not None:
            start = int(marker) + 1 if marker else 0
            answer["NextToken"] = str(start + size - 1)
        return json.dumps(answer)

    aas.ApplicationAutoScalingResponse.describe_scalable_targets = describe


_patch_scalable_target_pages()

# ---- fault injection and counters, in front of moto --------------------

# the X-Amz-Target prefix of each JSON service, for unsigned requests
TARGET_SERVICES = {
    "SageMaker": "sagemaker",
    "GraniteServiceVersion20100801": "monitoring",
    "AnyScaleFrontendService": "application-autoscaling",
    "DynamoDB_20120810": "dynamodb",
    "AWSEvents": "events",
    "Logs_20140328": "logs",
}
JSON_SERVICES = set(TARGET_SERVICES.values())
# the Version of each query service, for unsigned requests
QUERY_VERSIONS = {"2011-06-15": "sts", "2010-03-31": "sns", "2010-05-08": "iam"}


def identify(environ: dict[str, Any], body: bytes) -> tuple[str, str]:
    """(service, operation) of an AWS request."""
    service = ""
    auth = environ.get("HTTP_AUTHORIZATION", "")
    m = re.search(r"Credential=[^/]+/[^/]+/[^/]+/([^/]+)/", auth)
    if m:
        service = m.group(1)
    target = environ.get("HTTP_X_AMZ_TARGET", "")
    if target:
        prefix, _, op = target.partition(".")
        return service or TARGET_SERVICES.get(prefix, prefix), op
    ctype = environ.get("CONTENT_TYPE", "")
    if "x-www-form-urlencoded" in ctype:
        form = parse_qs(body.decode("utf-8", "replace"))
        action = form.get("Action", [""])[0]
        version = form.get("Version", [""])[0]
        if action:
            return service or QUERY_VERSIONS.get(version, "query"), action
    return service or "s3", environ.get("REQUEST_METHOD", "GET")


class Faults:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.rules: list[dict[str, Any]] = []
        self.calls: dict[str, int] = {}

    def add(self, rule: dict[str, Any]) -> None:
        if not isinstance(rule.get("operation"), str):
            raise ValueError('"operation" (a name, Service.Operation, or "*") is required')
        if not any(k in rule for k in ("error", "latencyMs", "drop", "dropAfter", "nextToken")):
            raise ValueError('a fault needs "error", "latencyMs", "drop", "dropAfter" or "nextToken"')
        rule.setdefault("count", 1)
        with self.lock:
            self.rules.append(rule)

    def take(self, service: str, op: str) -> dict[str, Any] | None:
        """Counts the call; returns the first matching rule, used once."""
        key = f"{service}.{op}"
        with self.lock:
            self.calls[key] = self.calls.get(key, 0) + 1
            for rule in self.rules:
                want = rule["operation"]
                if rule["count"] > 0 and want in ("*", op, key):
                    rule["count"] -= 1
                    return dict(rule)
        return None

    def reset(self) -> None:
        with self.lock:
            self.rules.clear()
            self.calls.clear()


FAULTS = Faults()


def _json(start_response: Any, status: str, obj: Any) -> list[bytes]:
    body = json.dumps(obj, indent=1, sort_keys=True).encode()
    start_response(status, [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
    return [body]


def _error_response(start_response: Any, service: str, rule: dict[str, Any]) -> list[bytes]:
    code = rule["error"]
    status = int(rule.get("status", 400))
    message = rule.get("message", f"Injected fault: {code}")
    reason = {400: "Bad Request", 429: "Too Many Requests", 500: "Internal Server Error",
              503: "Service Unavailable"}.get(status, "Error")
    request_id = "sim-" + os.urandom(8).hex()
    if service in JSON_SERVICES:
        body = json.dumps({"__type": code, "message": message}).encode()
        headers = [("Content-Type", "application/x-amz-json-1.1"), ("x-amzn-ErrorType", code)]
    else:
        body = (
            "<ErrorResponse><Error><Type>Sender</Type>"
            f"<Code>{code}</Code><Message>{message}</Message></Error>"
            f"<RequestId>{request_id}</RequestId></ErrorResponse>"
        ).encode()
        headers = [("Content-Type", "text/xml")]
    headers += [("x-amzn-RequestId", request_id), ("Content-Length", str(len(body)))]
    start_response(f"{status} {reason}", headers)
    return [body]


def _json_error(status: str, headers: list, body: bytes) -> tuple[list, bytes] | None:
    """moto's XML error for a JSON-protocol request, in the JSON shape."""
    if not status.startswith("4") or b"<ErrorResponse" not in body:
        return None
    text = body.decode("utf-8", "replace")
    code = re.search(r"<Code>(.*?)</Code>", text, re.S)
    message = re.search(r"<Message>(.*?)</Message>", text, re.S)
    if not code:
        return None
    new = json.dumps(
        {"__type": code.group(1), "message": message.group(1) if message else ""}
    ).encode()
    kept = [(k, v) for k, v in headers if k.lower() not in ("content-type", "content-length")]
    kept += [
        ("Content-Type", "application/x-amz-json-1.1"),
        ("x-amzn-ErrorType", code.group(1)),
        ("Content-Length", str(len(new))),
    ]
    return kept, new


def _drop(environ: dict[str, Any], why: str) -> None:
    """Closes the client's connection without an answer."""
    sock = environ.get("werkzeug.socket")
    if sock is not None:
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
    raise ConnectionAbortedError(why)


class SimApp:
    """WSGI middleware: /_sim/ controls, then faults, then moto."""

    def __init__(self, app: Any) -> None:
        self.app = app

    def control(self, environ: dict[str, Any], start_response: Any, body: bytes) -> list[bytes]:
        path = environ.get("PATH_INFO", "")
        method = environ.get("REQUEST_METHOD", "GET")
        try:
            data = json.loads(body or b"{}")
        except ValueError as e:
            return _json(start_response, "400 Bad Request", {"error": f"invalid JSON: {e}"})
        if path == "/_sim/calls" and method == "GET":
            with FAULTS.lock:
                calls = dict(sorted(FAULTS.calls.items()))
            return _json(start_response, "200 OK", {"calls": calls, "total": sum(calls.values())})
        if path == "/_sim/faults" and method == "GET":
            with FAULTS.lock:
                rules = list(FAULTS.rules)
            return _json(start_response, "200 OK", {"faults": rules})
        if path == "/_sim/faults" and method == "POST":
            try:
                FAULTS.add(data)
            except (ValueError, AttributeError) as e:
                return _json(start_response, "400 Bad Request", {"error": str(e)})
            return _json(start_response, "200 OK", {"added": data})
        if path == "/_sim/reset" and method == "POST":
            FAULTS.reset()
            return _json(start_response, "200 OK", {"reset": True})
        if path == "/_sim/advance" and method == "POST":
            seconds = data.get("seconds")
            if not isinstance(seconds, (int, float)) or seconds < 0:
                return _json(start_response, "400 Bad Request",
                             {"error": '"seconds" must be a number >= 0'})
            CLOCK.advance(float(seconds))
            return _json(start_response, "200 OK", {"now": CLOCK.now().isoformat()})
        return _json(start_response, "404 Not Found", {"error": f"no control {method} {path}"})

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        environ["wsgi.input"] = io.BytesIO(body)
        if environ.get("PATH_INFO", "").startswith("/_sim/"):
            return self.control(environ, start_response, body)
        service, op = identify(environ, body)
        rule = FAULTS.take(service, op)
        if rule:
            if rule.get("latencyMs"):
                time.sleep(float(rule["latencyMs"]) / 1000)
            if rule.get("drop"):
                _drop(environ, "dropped by /_sim/faults")
            if rule.get("error"):
                return _error_response(start_response, service, rule)
            if rule.get("dropAfter"):
                # the request is done, the answer is lost: what a client
                # sees when a connection breaks after the server acted
                chunks = self.app(environ, lambda *a, **k: (lambda d: None))
                for _ in chunks:
                    pass
                if hasattr(chunks, "close"):
                    chunks.close()
                _drop(environ, "answer dropped by /_sim/faults")
        if not (environ.get("HTTP_X_AMZ_TARGET") and "json" in environ.get("CONTENT_TYPE", "")):
            return self.app(environ, start_response)
        # moto answers auth failures in XML even on JSON services, which
        # JSON clients cannot read: answer in the service's own shape
        captured: list = []

        def capture(status: str, headers: list, exc_info: Any = None) -> Any:
            captured[:] = [status, headers]
            return lambda data: None

        chunks = self.app(environ, capture)
        try:
            out = b"".join(chunks)
        finally:
            if hasattr(chunks, "close"):
                chunks.close()
        status, headers = captured
        fixed = _json_error(status, headers, out)
        if fixed:
            headers, out = fixed
        elif rule and "nextToken" in rule and status.startswith("200"):
            # a server that pages wrong: the token the rule says, or
            # ("repeat") the request's own, once it has one
            answer = json.loads(out or b"{}")
            asked = json.loads(body or b"{}").get("NextToken")
            if rule["nextToken"] != "repeat":
                answer["NextToken"] = rule["nextToken"]
            elif asked:
                answer["NextToken"] = asked
            out = json.dumps(answer).encode()
            headers = [(k, v) for k, v in headers if k.lower() != "content-length"]
            headers.append(("Content-Length", str(len(out))))
        start_response(status, headers)
        return [out]

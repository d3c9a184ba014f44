"""Is the rig ready to record? The camera drivers' configs checked against the parameters each
driver declares or reads at its pinned commit (``config/rig/driver_params``), the drivers'
executables installed, and, against a running graph (``microexp rig check``, and the record
launch before it records), every camera node up, its parameters known to it, its topics there with
the expected type and QoS, and publishing. ROS-free: the ``rig_check`` node of ros2_ws gathers a
:class:`GraphSnapshot` and hands it to :func:`live_findings`."""

from microexp.rigcheck.config import RigCheckConfig
from microexp.rigcheck.driver_params import (
    DriverParams,
    ParamSpec,
    check_node_params,
    driver_params_dir,
    load_driver_params,
    node_param_values,
)
from microexp.rigcheck.expect import (
    QOS_OFFERED,
    CameraExpectation,
    TopicExpectation,
    rig_expectations,
)
from microexp.rigcheck.findings import (
    Finding,
    GraphSnapshot,
    PublisherInfo,
    exit_status,
    format_report,
    live_findings,
    static_findings,
)

__all__ = [
    "QOS_OFFERED",
    "CameraExpectation",
    "DriverParams",
    "Finding",
    "GraphSnapshot",
    "ParamSpec",
    "PublisherInfo",
    "RigCheckConfig",
    "TopicExpectation",
    "check_node_params",
    "driver_params_dir",
    "exit_status",
    "format_report",
    "live_findings",
    "load_driver_params",
    "node_param_values",
    "rig_expectations",
    "static_findings",
]

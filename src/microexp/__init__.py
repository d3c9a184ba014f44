"""microexp: facial micro-expressions (FACS Action Units) with event cameras.

The core (this package) is ROS-free: numpy, torch and rosbags only. The ROS 2 nodes in
``ros2_ws/src/microexp`` are thin adapters around it.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("microexp")
except PackageNotFoundError:  # running from a source tree without installation
    __version__ = "0.0.0+unknown"

__all__ = ["__version__"]

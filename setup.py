# Copyright 2026 The HGGT-ROS Authors
# SPDX-License-Identifier: Apache-2.0
"""Build script of the `hggt_ros` ament_python package (also a plain pip package)."""

from glob import glob

from setuptools import find_packages, setup

PACKAGE_NAME = "hggt_ros"
# Grasp retargeting (hggt_core.retarget): dex-retargeting 0.5.0 imports six (and torch, above)
# without declaring them and brings pinocchio ("pin"); ghand ships the LEAP V1 KAIZEN hand's
# URDF that the default config uses (found inside the installed package at run time).
RETARGET = [
    "dex-retargeting==0.5.0; python_version < '3.13'",
    "six>=1.16",
    "ghand==0.1.0; python_version >= '3.11' and python_version < '3.13'",
]

setup(
    name=PACKAGE_NAME,
    version="0.1.0",
    packages=find_packages(
        include=["hggt_core", "hggt_core.*", "hggt_ros", "hggt_ros.*", "training", "training.*"]
    ),
    package_data={
        "hggt_core": [
            "data/demo_example/*.jpg",
            "data/demo_example/*.json",
            "data/demo_model.safetensors",
        ],
        "training": ["configs/*.yaml"],
    },
    data_files=[
        ("share/ament_index/resource_index/packages", [f"resource/{PACKAGE_NAME}"]),
        (f"share/{PACKAGE_NAME}", ["package.xml"]),
        (f"share/{PACKAGE_NAME}/launch", glob("launch/*.launch.py")),
        (f"share/{PACKAGE_NAME}/config", glob("config/*.yaml") + glob("config/*.rviz")),
        (f"share/{PACKAGE_NAME}/config/retarget", glob("config/retarget/*.yaml")),
    ],
    python_requires=">=3.10",
    install_requires=[
        "numpy>=1.24",
        "torch>=2.2",
        "safetensors>=0.4",
        "opencv-python-headless>=4.8",
        "rosbags>=0.10",
        "tqdm>=4.60",
        "ruamel.yaml>=0.17",
    ],
    extras_require={
        "dev": [
            "pytest>=8",
            "ruff==0.17.6",
            "mypy>=1.10",
            "types-tqdm",
            "smplx==0.1.28",
            "onnx>=1.16",
            "onnxruntime>=1.18",
            "onnxscript>=0.2",
            *RETARGET,
        ],
        "ros": [
            "ros-jazzy-rclpy",
            "ros-jazzy-std-msgs",
            "ros-jazzy-sensor-msgs",
            "ros-jazzy-geometry-msgs",
            "ros-jazzy-visualization-msgs",
            "ros-jazzy-diagnostic-msgs",
            "ros-jazzy-std-srvs",
            "ros-jazzy-builtin-interfaces",
            "ros-jazzy-rcl-interfaces",
            "ros-jazzy-rmw-fastrtps-cpp",
        ],
        "onnx": ["onnx>=1.16", "onnxruntime>=1.18", "onnxscript>=0.2"],
        "trt": ["tensorrt>=10"],
        # The landmark engine's MediaPipe (1.2.3): its runtime dependencies without the
        # opencv-contrib-python it declares (opencv-python-headless above provides cv2);
        # mediapipe itself is installed with --no-deps by tools/setup_venv.sh.
        "detector": [
            "absl-py~=2.3",
            "certifi",
            "flatbuffers~=25.9",
            "matplotlib",
            "sounddevice~=0.5",
        ],
        "train": ["tensorboard>=2.14"],
        "retarget": RETARGET,
    },
    zip_safe=False,
    maintainer="HGGT-ROS Authors",
    maintainer_email="hggt-ros@example.org",
    description="Multi-view 3D hand mesh and camera estimation (HGGT) for ROS 2",
    license="Apache-2.0",
    entry_points={
        "console_scripts": [
            "hggt = hggt_core.cli:main",
            "hggt_node = hggt_ros.node:main",
            "hggt_retarget = hggt_ros.retarget_node:main",
        ]
    },
)

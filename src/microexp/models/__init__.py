"""microexp.models: the paper's PLIF SNN (and its fast streaming form), a C3D-style 3D-CNN,
a small SEW-ResNet, and the conditional VAE for frame reconstruction."""

from microexp.models.c3d import C3D
from microexp.models.cvae import CVAE, cvae_loss
from microexp.models.registry import MODELS, build_model
from microexp.models.sew_resnet import SEWResNet
from microexp.models.snn import NEURONS, PaperSNN, count_parameters, plif_neuron, time_average
from microexp.models.snn_infer import FastSNN

__all__ = [
    "C3D",
    "CVAE",
    "MODELS",
    "NEURONS",
    "FastSNN",
    "PaperSNN",
    "SEWResNet",
    "build_model",
    "count_parameters",
    "cvae_loss",
    "plif_neuron",
    "time_average",
]

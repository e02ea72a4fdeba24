"""Large multi-head plate classifier (ResNet-18 style) and the shared training engine."""

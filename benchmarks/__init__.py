"""Accuracy and latency of every artefact on device (LiteRT) and server (ONNX Runtime) targets."""

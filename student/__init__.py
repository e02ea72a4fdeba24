"""MobileNetV3 multi-head students (Small / Large) built for int8, ONNX and tfmot QAT."""

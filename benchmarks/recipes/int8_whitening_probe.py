"""The whitening layer alone, float vs full-int8 TFLite, on 100 real crops (int8_whitening_probe.md).

Why: per-layer errors from ``deploy tflite --debug-quant`` showed the int8 variance MEAN off by
~1000. This isolates it: one MEAN over the whole image (the layer before commit 0858a21) vs one
mean per axis (the layer now). The std of the int8 output over the float output is 1.0 when right.
Run from the repository root after step 1 of real_scale.sh:
``.venv/bin/python benchmarks/recipes/int8_whitening_probe.py``."""

from pathlib import Path

import numpy as np
from ai_edge_litert.interpreter import Interpreter
from PIL import Image

from plates.keras import keras, tf
from plates.layers import per_image_mean

SPLIT = Path("runs/real-dev-split")
HEIGHT, WIDTH = 32, 96


def load(line: str) -> np.ndarray:
    image = Image.open(SPLIT / line.split()[0]).convert("RGB").resize((WIDTH, HEIGHT), Image.Resampling.BILINEAR)
    return np.asarray(image, np.float32)


def one_mean(x: tf.Tensor) -> tf.Tensor:
    return tf.reduce_mean(x, axis=[1, 2, 3], keepdims=True)


def whitening_model(mean) -> keras.Model:
    inp = keras.Input((HEIGHT, WIDTH, 3))
    x = keras.layers.Lambda(lambda x: x - mean(x))(inp)
    var = keras.layers.Lambda(lambda c: mean(tf.square(c)))(x)
    out = keras.layers.Lambda(lambda t: t[0] * tf.math.rsqrt(tf.maximum(t[1], 1.0 / (HEIGHT * WIDTH * 3))))([x, var])
    return keras.Model(inp, out)


def main() -> None:
    images = np.stack([load(line) for line in (SPLIT / "train.txt").read_text().splitlines()[:300]])
    print(
        f"pixel std of the 100 test crops: {images[200:].std(axis=(1, 2, 3)).min():.1f}-"
        f"{images[200:].std(axis=(1, 2, 3)).max():.1f}"
    )
    for name, mean in [("one MEAN over the image (before)", one_mean), ("one mean per axis (now)", per_image_mean)]:
        model = whitening_model(mean)
        converter = tf.lite.TFLiteConverter.from_keras_model(model)
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
        converter.representative_dataset = lambda: ([im[None]] for im in images[:200])
        converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
        converter.inference_input_type = tf.uint8
        interpreter = Interpreter(model_content=converter.convert())
        interpreter.allocate_tensors()
        (i,), (o,) = interpreter.get_input_details(), interpreter.get_output_details()
        ratios, errors = [], []
        for im in images[200:]:
            interpreter.set_tensor(i["index"], im[None].astype(np.uint8))
            interpreter.invoke()
            q, f = interpreter.get_tensor(o["index"])[0], model(im[None]).numpy()[0]
            ratios.append(np.std(q) / np.std(f))
            errors.append(np.abs(q - f).mean())
        print(
            f"{name}: std(int8)/std(float) mean {np.mean(ratios):.3f}, min {np.min(ratios):.3f}, "
            f"max {np.max(ratios):.3f}; mean |int8 - float| {np.mean(errors):.3f}"
        )


if __name__ == "__main__":
    main()

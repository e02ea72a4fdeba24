"""Model soups: several fine-tunes of one model averaged, weight by weight, into one model.

Runs fine-tuned from the same start (different data mixes, seeds, levers) land in one basin
of the loss, so the mean of their weights is itself a good model, and usually a better one
than any of them on data unlike the training data (Wortsman et al., "Model soups", ICML 2022).
Unlike an ensemble it costs nothing at inference: the soup has the architecture, size and
latency of each ingredient, so every later stage (qat, deploy, benchmarks) takes it as is.

Two recipes, as in the paper: the *uniform* soup averages every ingredient; the *greedy* soup
adds ingredients best-first by their accuracy on a validation set and keeps each one only if
the soup does not read fewer plates with it. The greedy soup is selected on that set, so its
accuracy there is optimistic; report it on another one as well.

Moving averages of batch norm are averaged like every other weight: the ingredients share
their start, so their statistics stay close and the averaged ones fit the averaged kernels."""

from __future__ import annotations

import dataclasses
import logging
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from plates.bundle import ModelInfo
from plates.errors import ModelError, SpecError

if TYPE_CHECKING:  # importing Keras starts TensorFlow; the CLI reads SOUP_RECIPES without it
    from plates.keras import keras

logger = logging.getLogger("plates")

#: how the ingredients are combined -> whether ingredients are picked on a validation set
SOUP_RECIPES = {"uniform": False, "greedy": True}


@dataclasses.dataclass
class Soup:
    """The averaged model, its labels, and which ingredients went in (with their scores)."""

    model: keras.Model
    info: ModelInfo
    ingredients: list[str]
    scores: dict[str, float]  # ingredient (or "soup") -> full-plate accuracy on the validation set
    recipe: str

    def record(self) -> dict[str, Any]:
        return {"recipe": self.recipe, "ingredients": self.ingredients, "val_plate_accuracy": self.scores}


def check_same_model(infos: Sequence[ModelInfo], models: Sequence[keras.Model], names: Sequence[str]) -> None:
    """Every ingredient must read the same heads at the same input size with the same weight shapes:
    the mean of two different architectures' weights means nothing."""
    first, ref_shapes = infos[0], [w.shape for w in models[0].weights]
    for info, model, name in zip(infos[1:], models[1:], names[1:], strict=True):
        if info.spec.to_dict() != first.spec.to_dict() or info.size != first.size:
            raise SpecError(f"{name}: its heads or input size differ from {names[0]}'s (labels.json)")
        shapes = [w.shape for w in model.weights]
        if shapes != ref_shapes:
            raise ModelError(
                f"{name}: not the architecture of {names[0]} ({len(shapes)} weights against {len(ref_shapes)}, "
                "or their shapes differ); a soup averages fine-tunes of one model"
            )


def mean_weights(weights: Sequence[Sequence[np.ndarray]]) -> list[np.ndarray]:
    """Element-wise mean of each weight over the ingredients; a weight that is not floating point
    (a step counter) must be equal in all of them and is kept."""
    out = []
    for k, group in enumerate(zip(*weights, strict=True)):
        if np.issubdtype(group[0].dtype, np.floating):
            out.append(np.mean(np.stack(group), axis=0).astype(group[0].dtype))
        elif all(np.array_equal(group[0], g) for g in group[1:]):
            out.append(group[0])
        else:
            raise ModelError(f"weight {k} ({group[0].dtype}) differs between ingredients and cannot be averaged")
    return out


def make_soup(
    folders: Sequence[str | os.PathLike],
    recipe: str = "uniform",
    score: Callable[[keras.Model, ModelInfo], float] | None = None,
) -> Soup:
    """Average the Keras model folders ``folders`` by ``recipe`` (a key of ``SOUP_RECIPES``).

    ``score(model, info)`` is the full-plate accuracy on a validation set; the greedy recipe
    needs it, the uniform one only reports it."""
    from tqdm import tqdm

    from plates.modelio import load_model

    if recipe not in SOUP_RECIPES:
        raise ValueError(f"unknown soup recipe {recipe!r} (known: {', '.join(SOUP_RECIPES)})")
    if len(folders) < 2:
        raise ModelError("a soup needs at least two model folders")
    if SOUP_RECIPES[recipe] and score is None:
        raise ValueError(f"the {recipe} soup picks its ingredients on a validation set: give one")
    names = [str(f) for f in folders]
    loaded = [load_model(f) for f in tqdm(names, desc="load", unit="model", disable=len(names) < 4)]
    models, infos = [m for m, _ in loaded], [i for _, i in loaded]
    check_same_model(infos, models, names)
    weights = {n: m.get_weights() for n, m in zip(names, models, strict=True)}
    scores = {n: score(m, i) for n, m, i in zip(names, models, infos, strict=True)} if score else {}
    soup = models[0]  # its graph carries the averaged weights; the others are only read
    chosen = names
    if SOUP_RECIPES[recipe]:  # greedy: keep an ingredient only if the soup reads at least as many plates
        first, *rest = sorted(names, key=lambda n: -scores[n])
        chosen, best = [first], scores[first]
        for name in rest:
            soup.set_weights(mean_weights([weights[n] for n in [*chosen, name]]))
            trial = score(soup, infos[0])  # type: ignore[misc]
            logger.info("soup + %s: %.4f (best so far %.4f)", name, trial, best)
            if trial >= best:
                chosen.append(name)
                best = trial
    soup.set_weights(mean_weights([weights[n] for n in chosen]))
    if score is not None:
        scores["soup"] = score(soup, infos[0])
    info = dataclasses.replace(infos[0], extra={**infos[0].extra, "soup": {"recipe": recipe, "ingredients": chosen}})
    return Soup(soup, info, chosen, scores, recipe)


def save_soup(out: str | os.PathLike, soup: Soup) -> Path:
    """The soup as a model folder (model.keras + labels.json, which names the ingredients) plus soup.json."""
    from plates.atomic import write_json
    from plates.modelio import save_model

    out = save_model(out, soup.model, soup.info)
    write_json(out / "soup.json", soup.record())
    return out

"""Which components an index needs, and the shared defaults that fill them in (:func:`resolve_components`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ...errors import ModelError
from .config import IndexConfig

if TYPE_CHECKING:
    from ...embed.encoder import Encoder
    from ...tagging.tagger import Tagger
    from ...text.segment import Segmenter

__all__ = ["resolve_components"]


def resolve_components(
    config: IndexConfig | None,
    encoder: Encoder | None,
    segmenter: Segmenter | None,
    tagger: Tagger | None,
) -> tuple[IndexConfig, Encoder | None, Segmenter | None, Tagger | None]:
    """Fill in the shared default components for the sides ``config`` turns on (None: ``IndexConfig()``).

    Raises ModelError when a side's default component can't be built (e.g. ``category_weight > 0`` with an
    encoder of another model than the shipped tagger was trained on: pass ``tagger=...``).
    """
    cfg = config if config is not None else IndexConfig()
    if cfg.semantic_weight > 0 and encoder is None:
        from ..._defaults import default_encoder

        encoder = default_encoder()
    if cfg.category_weight > 0 and tagger is None:
        from ...tagging.tagger import Tagger

        try:
            tagger = Tagger.default(encoder=encoder)
        except ModelError as exc:
            raise ModelError(
                f"{exc}; the index's category side needs a tagger for this encoder: pass tagger=... or "
                "config=IndexConfig(category_weight=0)"
            ) from exc
    if (cfg.token_weight > 0 or cfg.boilerplate_weight < 1) and segmenter is None:
        from ..._defaults import default_segmenter

        segmenter = default_segmenter()
    return cfg, encoder, segmenter, tagger

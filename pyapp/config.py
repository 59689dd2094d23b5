"""The one place for the sizes and names shared by the page, the CLI, training and the tests."""

from pathlib import Path

MODEL_SIDE = 28  # the model sees 28x28 images, as MNIST
DIGIT_SIDE = 20  # the long side of a digit inside that frame, as MNIST's own normalisation
MODEL_FILE = "digits.onnx"
MODEL_INPUT = "image"  # float32 [N, 28, 28, 1], white ink on black, 0..1
MODEL_OUTPUT = "probabilities"  # float32 [N, 11], softmax: the ten digits, then NOT_ONE
DIGITS = 10
# The model's eleventh class: the piece is not one digit (two digits or parts of them, a fragment of one, a
# digit with a neighbour's stroke through its box). pyapp.recognize's search scores pieces by it.
NOT_ONE = 10
CLASSES = DIGITS + 1
# float32 [N, EMBEDDING_SIZE]: the penultimate layer (global average pool, what the last Dense reads), for
# personal examples (pyapp.personal). Exposing it computes nothing new: probabilities stay bit for bit.
MODEL_EMBEDDING = "embedding"
EMBEDDING_SIZE = 96
# How pyapp.personal compares two embeddings of this model: the mean and whitening of MNIST's validation
# digits' embeddings (training/space.py writes it next to the model, with the model file's sha256).
SPACE_FILE = "digits.space.npz"

# Where the committed model lives in a source checkout (the page fetches it as ./model/digits.onnx).
MODEL_PATH = Path(__file__).resolve().parent.parent / "model" / MODEL_FILE
SPACE_PATH = MODEL_PATH.with_name(SPACE_FILE)

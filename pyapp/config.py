"""The one place for the sizes and names shared by the page, the CLI, training and the tests."""

from pathlib import Path

MODEL_SIDE = 28  # the model sees 28x28 images, as MNIST
DIGIT_SIDE = 20  # the long side of a digit inside that frame, as MNIST's own normalisation
MODEL_FILE = "digits.onnx"
MODEL_INPUT = "image"  # float32 [N, 28, 28, 1], white ink on black, 0..1
# float32 [N, OUTPUT_WIDTH]: a softmax over CLASSES (the ten digits, NOT_ONE, TWO), then two softmaxes
# over the ten digits, PAIR_LEFT and PAIR_RIGHT: which two digits a piece holds, given that it holds two.
MODEL_OUTPUT = "probabilities"
DIGITS = 10
# The model's eleventh class: the piece is not one digit, nor two whole ones (parts of two digits, a
# fragment of one, a digit with a neighbour's stroke through its box). pyapp.recognize's search scores
# pieces by it.
NOT_ONE = 10
# The twelfth: the piece is two whole digits side by side (touching or overlapping as people write them
# fast), read by the two pair softmaxes; a cut need not find where they meet.
TWO = 11
CLASSES = DIGITS + 2
PAIR_LEFT = CLASSES  # first column of the left digit's softmax
PAIR_RIGHT = CLASSES + DIGITS  # ... and of the right one's
OUTPUT_WIDTH = CLASSES + 2 * DIGITS
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

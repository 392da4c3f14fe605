"""Train a small neural network on scikit-learn's bundled digits images.

No download: the 8x8 digits ship with scikit-learn. Every epoch logs the
training and validation loss and accuracy; the run's summary keeps the best
validation accuracy and the held-out test accuracy.

    python examples/train_digits.py [--epochs 30] [--hidden 64]
"""

import argparse

import lodestar
import numpy as np
from sklearn.datasets import load_digits
from sklearn.metrics import accuracy_score, log_loss
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier
from sklearn.preprocessing import StandardScaler


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--hidden", type=int, default=64)
    parser.add_argument("--learning-rate", type=float, default=0.001)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--seed", type=int, default=0)
    return parser.parse_args()


def split_data(seed: int) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Train, validation and test sets (60/20/20), scaled on the train set."""
    images, labels = load_digits(return_X_y=True)
    x_train, x_rest, y_train, y_rest = train_test_split(
        images, labels, test_size=0.4, random_state=seed, stratify=labels
    )
    x_val, x_test, y_val, y_test = train_test_split(
        x_rest, y_rest, test_size=0.5, random_state=seed, stratify=y_rest
    )
    scaler = StandardScaler().fit(x_train)
    return {
        "train": (scaler.transform(x_train), y_train),
        "val": (scaler.transform(x_val), y_val),
        "test": (scaler.transform(x_test), y_test),
    }


def evaluate(model: MLPClassifier, x: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """Cross-entropy loss and accuracy of `model` on one set."""
    probabilities = model.predict_proba(x)
    loss = log_loss(y, probabilities, labels=model.classes_)
    accuracy = accuracy_score(y, model.classes_[probabilities.argmax(axis=1)])
    return float(loss), float(accuracy)


def train_one_epoch(
    model: MLPClassifier, x: np.ndarray, y: np.ndarray, batch: int, rng
) -> None:
    order = rng.permutation(len(x))
    classes = np.arange(10)
    for start in range(0, len(x), batch):
        chosen = order[start:start + batch]
        model.partial_fit(x[chosen], y[chosen], classes=classes)


def main() -> None:
    args = parse_args()
    data = split_data(args.seed)
    run = lodestar.init(
        project="digits", name=f"mlp-{args.hidden}", job_type="train",
        config=vars(args),
    )
    run.config.update({"model": "MLPClassifier", "train_size": len(data["train"][1])})
    model = MLPClassifier(
        hidden_layer_sizes=(args.hidden,),
        learning_rate_init=args.learning_rate,
        random_state=args.seed,
    )
    rng = np.random.default_rng(args.seed)
    best_val = 0.0
    for epoch in range(1, args.epochs + 1):
        train_one_epoch(model, *data["train"], args.batch_size, rng)
        train_loss, train_acc = evaluate(model, *data["train"])
        val_loss, val_acc = evaluate(model, *data["val"])
        best_val = max(best_val, val_acc)
        run.log({"epoch": epoch, "train/loss": train_loss, "train/acc": train_acc,
                 "val/loss": val_loss, "val/acc": val_acc})
    test_loss, test_acc = evaluate(model, *data["test"])
    run.summary.update({"best_val_acc": best_val, "test/loss": test_loss,
                        "test/acc": test_acc})
    run.finish()
    print(f"digits: test accuracy {test_acc:.3f} (run {run.id})")


if __name__ == "__main__":
    main()

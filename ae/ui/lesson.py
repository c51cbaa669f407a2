"""The guided lesson's steps as words (ae/ui/steps.py draws each one's widget): what the Lesson
page says, and what the Class page names when a teacher leads the class through them."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Step:
    title: str
    say: str  # a few sentences
    question: str  # for the class
    page: str  # the full page this step opens


STEPS = [
    Step(
        "What an autoencoder is",
        "An autoencoder squeezes a picture through a small code and rebuilds it from the code alone. Draw a digit: "
        "the model rebuilds it as you draw, in your browser.",
        "What did the model keep of your drawing, and what did it lose?",
        "draw",
    ),
    Step(
        "The bottleneck",
        "The code is the bottleneck: everything the decoder knows. The same drawing goes through codes of different sizes, side by side.",
        "How many numbers does it take to rebuild a digit you recognise? What does the smallest code draw?",
        "draw",
    ),
    Step(
        "Cleaning noise",
        "Trained on noisy digits with clean targets, an autoencoder learns to remove noise: its code keeps the digit and drops the rest.",
        "Why can a model trained on noise clean it, when a model trained on clean digits cannot?",
        "denoise",
    ),
    Step(
        "Walking between two digits",
        "Similar digits get similar codes. Walk in a straight line from the code of a 3 to the code of an 8 and decode every step.",
        "Do the steps in between look like digits? What would mixing the pixels look like?",
        "interpolate",
    ),
    Step(
        "Is this a digit?",
        "A model rebuilds what looks like what it learned, and it places it near the codes of the digits it has seen. "
        "Draw a letter, a face or a square, and watch the meter under the pictures.",
        "Which drawings fool the model into calling them digits? Why those?",
        "draw",
    ),
    Step(
        "A digit in a few bytes",
        "The code is a tiny file: round each of its numbers to a few bits and a digit fits in a few bytes. Here a test 8 "
        "at 2 bits a number, next to JPEG and PCA given as many bytes.",
        "How few bytes does a digit need? Why can JPEG not get that small?",
        "compress",
    ),
]


def heading(step: int) -> str:
    return f"Step {step} of {len(STEPS)}: {STEPS[step - 1].title}"


SHOWN = "ae_step_{}"  # the key of the container a step is drawn in, in a page that holds every step (0: the Draw page's own)
FOLLOWS = "ae-follows"  # the page's body has this class while the Follow widget's rule decides


def hidden_but(step: int, over: bool = False) -> str:
    """The CSS that hides every step's container but `step`'s: the page's own rule, until the
    Follow widget takes over (its class on the page's body), or the widget's (`over`, follow.js)."""
    prefix = "st-key-" + SHOWN.format("")
    return f"{'' if over else f'body:not(.{FOLLOWS}) '}[class*='{prefix}']:not(.{prefix}{step}) {{ display: none }}"

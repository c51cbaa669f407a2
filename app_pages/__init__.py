"""The app's pages in menu order, the one list of them: app.py builds the menu from it, and the
tests and the screenshot script visit every page in it. A page is `app_pages/<file>.py`."""

PAGES = [
    # (file, title, icon)
    ("home", "Home", ":material/home:"),
    ("lesson", "Lesson", ":material/school:"),
    ("draw", "Draw", ":material/draw:"),
    ("denoise", "Denoise", ":material/auto_fix_high:"),
    ("interpolate", "Interpolate", ":material/linear_scale:"),
    ("explore", "Explore", ":material/scatter_plot:"),
    ("compress", "Compress", ":material/compress:"),
    ("train", "Train", ":material/model_training:"),
    ("class", "Class", ":material/groups:"),  # AE_CLASS=off leaves it out
]

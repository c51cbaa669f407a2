"""Launch training from the browser: a form, live progress and loss curves, stop, and the results."""

import streamlit as st

from ae import checkpoints, runtime, ui
from ae.ui import context

VAL_DIGITS = 2_000  # validating on all 12,000 would cost a third of a short run

st.title("Train a model")
st.caption(
    "Training runs in the background on this server: you can move to other pages, reload, or open "
    "a second tab, and come back to it here. The defaults finish in under a minute on a laptop CPU."
)


def loss_chart(steps: list, history: list[dict], first_epoch: int = 1):
    """Batch losses (raw and smoothed) and the per-epoch train and validation losses, on a log scale."""
    import plotly.graph_objects as go

    fig = go.Figure()
    if steps:
        x, y = zip(*steps)
        smooth, s = [], 0.0
        for i, v in enumerate(y, 1):  # exponential moving average (bias-corrected): the raw loss is noisy
            s = 0.95 * s + 0.05 * v
            smooth.append(s / (1 - 0.95**i))
        fig.add_trace(go.Scatter(x=x, y=y, mode="lines", name="batch loss", line=dict(color="rgba(124,156,255,0.25)", width=1)))
        fig.add_trace(go.Scatter(x=x, y=smooth, mode="lines", name="batch loss, smoothed", line=dict(color="#7c9cff", width=2)))
    if history:
        epochs = [h["epoch"] - first_epoch + 1 for h in history]
        train = [h["train_loss"] for h in history]
        if any(t is not None for t in train):
            fig.add_trace(go.Scatter(x=epochs, y=train, mode="lines+markers", name="train (epoch)", line=dict(color="#ffb86b")))
        fig.add_trace(
            go.Scatter(
                x=epochs, y=[h["val_loss"] for h in history], mode="lines+markers", name="validation (epoch)", line=dict(color="#50fa7b")
            )
        )
    fig.update_layout(
        height=320,
        margin=dict(l=10, r=10, t=10, b=10),
        template="plotly_dark",
        xaxis_title="epoch",
        yaxis_title="loss",
        yaxis_type="log",
        legend=dict(orientation="h", y=1.12),
    )
    return fig


def secret_setting():
    try:
        return st.secrets.get("training")
    except Exception:  # no secrets file: Streamlit raises its own error type
        return None


def shipped_runs(why: str) -> None:
    """No training here: why, and what trained the models this server has, read-only."""
    st.info(f"{why} Below are the runs that made its models.", icon=":material/lock:")
    choices = list(context.now().models)
    st.dataframe(
        [
            {
                "model": c.name,
                "architecture": c.meta.architecture,
                "epochs": c.meta.epochs_done,
                "training time (s)": round(c.meta.train_seconds),
                "test MSE": c.meta.test_mse,
                "trained on": c.meta.get("machine"),
            }
            for c in choices
        ],
        hide_index=True,
        column_config={"test MSE": st.column_config.NumberColumn(format="%.5f")},
    )
    trained = [c for c in choices if c.meta.history]
    if trained:
        shown = st.selectbox("Curves of", [c.name for c in trained], key="train_shipped")
        run = next(c for c in trained if c.name == shown)
        st.plotly_chart(loss_chart([], run.meta.history), key="curve_shipped", config={"displayModeBar": False})


if not runtime.training_allowed(secret_setting()):
    shipped_runs("Training is turned off on this server (AE_TRAINING=off), so that a shared link cannot start jobs on it.")
    st.stop()
if not runtime.torch_installed():
    shipped_runs(f"Training needs PyTorch, which this server does not have: `{runtime.INSTALL_TRAINING}` adds it.")
    st.stop()

# Training's side, torch with it: only where the server trains.
from ae import data, jobs, models  # noqa: E402
from ae.train_config import TrainConfig, settings  # noqa: E402


def free_name(stem: str = "lab") -> str:
    taken = {p.stem for p in checkpoints.checkpoint_files(checkpoints.default_dir())}
    return next(f"{stem}-{i}" for i in range(1, 10_000) if f"{stem}-{i}" not in taken)


LABELS = {
    "latent_dim": "Code size",
    "width": "Width (channels)",
    "channels": "Channels",
    "code_channels": "Code channels",
    "dropout": "Dropout",
}
QUICK = {"latent_dim": 16, "width": 16}  # the form's first run should take under a minute
# Every TrainConfig field a user sets here, in the form's order, with what the page does otherwise:
# a quicker default, a tighter range, a plainer label. The words, choices and ranges are TrainConfig's.
# Not here: model and model_config (above the form), out ("Save as"), val_limit (VAL_DIGITS), and
# what is the server's to choose (device, data_dir, resume, test_metrics, note).
NOT_ON_THE_PAGE = ("model", "model_config", "out", "val_limit", "device", "data_dir", "resume", "test_metrics", "note")
FORM = {
    "loss": {},
    "optimizer": {},
    "lr": {"value": 3e-3, "min": 1e-5, "step": 1e-4, "format": "%.4f"},
    "schedule": {"value": "onecycle"},
    "epochs": {"value": 3, "max": 200, "note": "up to 200 here; the command line takes more"},
    "batch_size": {"min": 8, "max": 4096},
    "limit": {
        "label": "Training images",
        "value": 6_000,
        "min": 500,
        "step": 500,
        "note": f"each epoch is scored on {VAL_DIGITS:,} held-out ones",
    },
    "noise": {"label": "Noise (denoising)"},
    "noise_level": {"value": 0.4, "step": 0.05},
    "augment": {"label": "Augment (rotation, perspective)"},
    "seed": {"max": 1_000_000},
    "precision": {},
    "weight_decay": {"format": "%.4f", "step": 1e-4},
    "ema": {"format": "%.4f", "step": 1e-3},
}
FIELDS = {f.name: f for f in settings()}


def model_settings(arch: str) -> dict:
    """A number input for each setting of the architecture's config; its values."""
    settings = models.settings(arch)
    if "latent_dim" not in settings:
        st.caption(f"Code size: {models.build(arch).latent_dim} numbers, fixed by this architecture.")
    values = {}
    for column, (name, default) in zip(st.columns(3) * 3, settings.items()):
        label = LABELS.get(name, name.replace("_", " ").capitalize())
        if isinstance(default, float):
            values[name] = column.number_input(label, 0.0, 0.9, default, 0.05, key=f"train_{arch}_{name}")
        else:
            top = models.MAX_LATENT if name == "latent_dim" else 256
            values[name] = int(column.number_input(label, 1, top, QUICK.get(name, default), key=f"train_{arch}_{name}"))
    return values


def setting(column, name: str, arch: str):
    """The widget of one TrainConfig field: its words, its choices or range, the page's default."""
    f, page = FIELDS[name], FORM[name]
    meta, key = f.metadata, f"train_{name}"
    label = page.get("label") or (meta["label"] or name.replace("_", " ")).capitalize()
    helps = "; ".join(filter(None, [meta["help"], page.get("note")]))
    value = page.get("value", f.default)
    choices = models.model_class(arch).losses if name == "loss" else meta["choices"]
    choices = choices() if callable(choices) else choices
    if choices:
        return column.selectbox(label, choices, index=list(choices).index(value) if value in choices else 0, key=key, help=helps)
    if isinstance(f.default, bool):
        return column.checkbox(label, value, key=key, help=helps)
    lo, hi = meta["between"]
    lo, hi = max(lo, page.get("min", lo)), min(hi, page.get("max", hi))
    if "int" in str(f.type):
        return int(column.number_input(label, int(lo), int(hi), int(value), int(page.get("step", 1)), key=key, help=helps))
    step = page.get("step", (hi - lo) / 100)
    return float(column.number_input(label, float(lo), float(hi), float(value), step, format=page.get("format"), key=key, help=helps))


def config_form() -> tuple[TrainConfig, str] | None:
    """The settings form, made from TrainConfig's fields (FORM); (config, name) when Start was pressed."""
    arch = st.selectbox("Architecture", models.available(), index=models.available().index("conv"), key="train_arch")
    st.caption(models.origin(arch))
    with st.form("train_form", border=True):
        model_config = model_settings(arch)
        values = {}
        for row in range(0, len(FORM), 3):
            for column, name in zip(st.columns(3), list(FORM)[row : row + 3]):
                values[name] = setting(column, name, arch)
        name = st.text_input("Save as", free_name(), max_chars=64, help="Letters, digits, '_', '-' or '.'")
        if not st.form_submit_button("Start training", icon=":material/play_arrow:"):
            return None
    if values["noise"] == "none":
        values["noise_level"] = 0.0
    return TrainConfig(model=arch, model_config=model_config, **values, val_limit=VAL_DIGITS, note="trained on the Train page"), name


def show_job(job: jobs.Job) -> None:
    arch = job.config.model
    st.subheader(f"{job.name}: {arch}, {job.state}")
    done = job.epochs_done
    st.progress(min(done / job.epochs, 1.0), text=f"Epochs: {done} of {job.epochs}")
    eta = job.eta_seconds()
    eta_text = f" · about {int(eta) // 60}:{int(eta) % 60:02d} left" if job.running and eta is not None else ""
    st.progress(job.epoch_fraction(), text=f"Epoch {max(job.epoch, 1)}: batch {job.batch} of {job.batches}{eta_text}")
    if job.running and done >= job.epochs and job.config.test_metrics:
        st.info("Training is done: scoring the best epoch on the 10,000 test digits and teaching its meter (a minute or two).")
    chart, samples = st.columns([3, 2])
    chart.plotly_chart(loss_chart(job.steps, job.history, job.first_epoch), key=f"curve_{job.name}", config={"displayModeBar": False})
    with samples:
        if job.samples is not None:
            inputs, outputs, targets = job.samples
            st.markdown(f"**After epoch {job.history[-1]['epoch']}**: validation digits")
            ui.picture(ui.row_picture(targets, 48), "originals", alt="Eight validation digits")
            if job.config.noise != "none":
                ui.picture(ui.row_picture(inputs, 48), "noisy inputs", alt="The same digits with noise, as the model saw them")
            ui.picture(ui.row_picture(outputs, 48), "reconstructions", alt="The model's reconstructions of them after this epoch")
        else:
            st.info("Reconstructions of validation digits appear after the first epoch.")


@st.fragment(run_every=1.0)
def live():
    """Polls the running job once a second; reruns the whole page once it ends (new model in the picker)."""
    job = jobs.manager.current
    if job is None or not job.running:
        st.rerun()  # the full page shows how it ended, with the run expanded
    st.session_state["train_watching"] = job.name
    show_job(job)
    if job.stop_requested:
        st.button("Stopping…", disabled=True, key="train_stopping")
    elif st.button("Stop", icon=":material/stop:", key="train_stop"):
        jobs.manager.stop()


current = jobs.manager.current
if current is not None and current.running:
    live()
else:
    if current is not None:  # the last run stays on show until the next one starts
        ending = {"done": st.success, "stopped": st.info, "diverged": st.error, "failed": st.error}
        ending.get(current.state, st.info)(f"**{current.name}**: {current.message}")
        with st.expander(f"Last run: {current.name}", expanded=bool(st.session_state.pop("train_watching", None))):
            show_job(current)
    if not data.mnist_available():
        ui.mnist_missing_note("train_download")
    elif (submitted := config_form()) is not None:
        try:
            jobs.manager.start(*submitted, directory=checkpoints.default_dir())
            st.session_state["train_watching"] = submitted[1]
            st.rerun()
        except jobs.JobError as e:
            st.error(str(e), icon=":material/block:")
            if jobs.manager.current is not None and jobs.manager.current.running:
                live()  # someone else started one a moment ago: show it

finished = [j for j in jobs.manager.jobs() if not j.running]
if finished:
    st.subheader("Runs on this server")
    st.dataframe(
        [
            {
                "name": j.name,
                "architecture": j.config.model,
                "state": j.state,
                "epochs": j.epochs_done,
                "best val loss": (j.best() or {}).get("val_loss"),
                "test MSE": j.metrics.get("test", {}).get("mse"),
                "message": j.message,
            }
            for j in finished
        ],
        hide_index=True,
        column_config={
            "best val loss": st.column_config.NumberColumn(format="%.5f"),
            "test MSE": st.column_config.NumberColumn(format="%.5f"),
        },
    )

"""The autoencoder lab's library: data, models, one training loop, checkpoints, evaluation.

Nothing here imports Streamlit except `ae.ui`.
"""

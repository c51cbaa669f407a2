#!/usr/bin/env bash
# Retrain every shipped checkpoint from scratch (make checkpoints), or some by name:
#   bash scripts/checkpoints.sh conv32 pca2
# Each case is one model's recipe. Hours on a 2-core CPU (the README's table has each model's
# time); minutes on a GPU.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-.venv/bin/python}
OUT=${OUT:-checkpoints}
ALL="pca2 pca32 pca128 dense stacked dense_sigmoid conv_transpose conv_upsample keras_conv keras_conv_denoise
     conv_bn_elu conv2 conv32 conv128 conv32_denoise vae16"

train() {  # name, then the options
  local name=$1
  shift
  echo "== $name" >&2
  "$PY" -m ae.train "$@" --out "$OUT/$name.safetensors"
}

for name in ${@:-$ALL}; do
  case $name in
    pca2 | pca32 | pca128) train "$name" --model pca --latent-dim "${name#pca}" ;;
    dense) train dense --model dense --loss mse --optimizer adam --epochs 20 --batch-size 256 ;;
    stacked) train stacked --model stacked --loss l1 --optimizer adam --lr 1e-3 --epochs 40 \
      --note "40 epochs, the seed's 20 twice over: with L1 it was still improving at 20" ;;
    dense_sigmoid) train dense_sigmoid --model dense_sigmoid --loss bce --optimizer adamw --lr 3e-3 --epochs 30 --batch-size 64 \
      --note "lr 3e-3 and 30 epochs: sigmoid units learn slowly (at 1e-3, 20 epochs gave test MSE 0.0185)" ;;
    conv_transpose) train conv_transpose --model conv_transpose --loss mse --epochs 20 ;;
    conv_upsample) train conv_upsample --model conv_upsample --loss mse --epochs 10 \
      --note "10 epochs (the seed: 20), to save CPU time; no quality target, reported next to PCA" ;;
    keras_conv) train keras_conv --model keras_conv --loss bce --optimizer adam --epochs 10 --batch-size 128 \
      --note "10 epochs (the seed: 20), to save CPU time; no quality target, reported next to PCA" ;;
    keras_conv_denoise) train keras_conv_denoise --model keras_conv --loss bce --optimizer adam --epochs 10 --batch-size 128 \
      --noise gaussian --noise-level 0.4 --note "10 epochs (the seed: 20), to save CPU time" ;;
    conv_bn_elu)  # a changing learning rate, then fine-tuning with rotation and perspective augmentation
      train conv_bn_elu --model conv_bn_elu --loss mse --schedule onecycle --lr 3e-3 --epochs 20
      "$PY" -m ae.train --resume "$OUT/conv_bn_elu.safetensors" --augment --lr 3e-4 --schedule onecycle --epochs 10 \
        --out "$OUT/conv_bn_elu.safetensors" --note "20 epochs one-cycle, then 10 fine-tuning with augmentation" ;;
    conv2 | conv32 | conv128) train "$name" --model conv --latent-dim "${name#conv}" --schedule onecycle --lr 3e-3 --epochs 20 ;;
    conv32_denoise) train conv32_denoise --model conv --latent-dim 32 --schedule onecycle --lr 3e-3 --epochs 8 \
      --noise mixed --noise-level 0.8 --note "8 epochs, to save CPU time (it gained 10.6 dB at gaussian 0.4; the target is 10)" ;;
    vae16) train vae16 --model vae --latent-dim 16 --epochs 20 ;;
    *) echo "no recipe for '$name'; known: $ALL" >&2; exit 2 ;;
  esac
done

# The lab as a public app: the shipped checkpoints, MNIST fetched while the image is built, training off.
#   docker build -t ae-lab . && docker run -p 8501:8501 ae-lab
FROM python:3.11-slim

WORKDIR /app
# PyTorch's CPU wheels: the PyPI ones bring CUDA, several GB a server without a GPU never uses.
RUN pip install --no-cache-dir --index-url https://download.pytorch.org/whl/cpu torch==2.14.1 torchvision==0.29.1
COPY requirements.txt .
RUN pip install --no-cache-dir -r requirements.txt

COPY . .
ENV MNIST_DIR=/app/data AE_TRAINING=off AE_CACHE_DIR=/app/cache
RUN python -m ae.download \
 && python -c "from ae import checkpoints, export; [export.onnx_files(p) for p in checkpoints.checkpoint_files('checkpoints')]"

EXPOSE 8501
HEALTHCHECK CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8501/_stcore/health')"
CMD ["python", "-m", "ae.serve", "--server.port=8501", "--server.address=0.0.0.0", "--server.headless=true"]

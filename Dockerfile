# The lab as a public app: requirements.txt alone (no torch: the shipped models run from their served
# ONNX files), MNIST fetched while the image is built, training off.
#   docker build -t ae-lab . && docker run -p 8501:8501 ae-lab
FROM python:3.11-slim

WORKDIR /app
COPY requirements.txt .
RUN pip install --no-cache-dir -r requirements.txt

COPY . .
# A public app: no training jobs (no traceback details either: .streamlit/config.toml).
ENV MNIST_DIR=/app/data AE_TRAINING=off AE_CACHE_DIR=/app/cache
RUN python -m ae.download

EXPOSE 8501
HEALTHCHECK CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8501/ae/health')"
CMD ["python", "-m", "ae.serve", "--server.port=8501", "--server.address=0.0.0.0", "--server.headless=true"]

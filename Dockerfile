# video-audit: the checker as a container. Build: docker build -t video-audit .
# Audit a disc:  docker run --rm -v /srv/discs:/data:ro video-audit check /data/某班级
# Web service:   docker run -p 8000:8000 -v va-data:/var/lib/video-audit \
#                  -v va-key:/var/lib/video-audit-key video-audit serve --host 0.0.0.0
# The evidence key lives in its own volume, never in the data one (docs/web.md): back it up apart.
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    LANG=C.UTF-8

# OpenCV needs libGL and GLib at run time; onnxruntime and dlib need OpenMP;
# CJK fonts draw Chinese captions on evidence screenshots and clocks on sample clips.
RUN apt-get update \
 && apt-get install -y --no-install-recommends libgl1 libglib2.0-0 libgomp1 fonts-noto-cjk \
 && rm -rf /var/lib/apt/lists/*

RUN useradd --create-home --uid 1000 auditor \
 && mkdir -p /var/lib/video-audit /var/lib/video-audit-key \
 && chown auditor /var/lib/video-audit /var/lib/video-audit-key \
 && chmod 700 /var/lib/video-audit-key

WORKDIR /opt/video-audit
COPY pyproject.toml README.md ./
COPY video_audit ./video_audit
COPY api ./api
COPY models ./models
RUN pip install .

USER auditor
ENV VIDEO_AUDIT_DATA=/var/lib/video-audit \
    VIDEO_AUDIT_EVIDENCE_KEY_FILE=/var/lib/video-audit-key/evidence.key
WORKDIR /data
EXPOSE 8000
ENTRYPOINT ["video-audit"]
CMD ["--help"]

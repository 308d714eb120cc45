// The player page: seek to the linked moment (?t=) once the clip's metadata is there, draw the
// flagged stretch (?t=…&end=…) on a timeline under the video, and, when the browser cannot
// play the clip after all, say so plainly and offer the download (the message is the page's).
// Frame steps and 截图取证 are app.js's setupPlayer.
"use strict";

(() => {
  const video = document.getElementById("player");
  if (!video) return;
  const start = Number(video.dataset.start || 0);
  const end = video.dataset.end ? Number(video.dataset.end) : null;
  const timeline = document.getElementById("timeline");
  const span = document.getElementById("timeline-span");
  const now = document.getElementById("timeline-now");
  const problem = document.getElementById("play-problem");
  const length = () => (Number.isFinite(video.duration) && video.duration > 0 ? video.duration : Number(video.dataset.duration) || 0);
  const percent = (seconds) => `${Math.min(100, Math.max(0, (100 * seconds) / length()))}%`;

  function seek() {
    if (start > 0 && Math.abs(video.currentTime - start) > 0.01) video.currentTime = start;
  }

  function draw() {
    if (!length()) return;
    timeline.hidden = false;
    if (end !== null) {
      span.style.left = percent(start);
      span.style.width = `calc(${percent(end)} - ${percent(start)})`;
      span.hidden = false;
    } else {
      span.hidden = true;
    }
    now.style.left = percent(video.currentTime);
  }

  if (video.readyState >= 1) seek();
  else video.addEventListener("loadedmetadata", seek, { once: true });
  video.addEventListener("loadedmetadata", draw);
  video.addEventListener("timeupdate", draw);
  video.addEventListener("seeked", draw);
  draw();
  timeline.addEventListener("click", (event) => {
    const box = timeline.getBoundingClientRect();
    if (length() && box.width) video.currentTime = (length() * (event.clientX - box.left)) / box.width;
  });
  video.addEventListener("error", () => {
    video.hidden = true;
    timeline.hidden = true;
    for (const part of document.querySelectorAll(".controls, #capture-form")) part.hidden = true;
    problem.hidden = false;
  });
})();

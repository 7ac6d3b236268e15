// Shows each document with pdf.js (embedded in the binary, loaded from this origin). Pages are
// rendered when they scroll into view, so a long document does not draw all its pages at once.
const main = document.getElementById("main");
const pdfjs = await import(main.dataset.pdfjs);
pdfjs.GlobalWorkerOptions.workerSrc = main.dataset.worker;

for (const box of document.querySelectorAll(".pdf[data-src]")) {
  show(box).catch((err) => {
    box.dataset.state = "error";
    box.querySelector(".loading").textContent = String(err && err.message || err);
  });
}

async function show(box) {
  const doc = await pdfjs.getDocument({
    url: box.dataset.src,
    isEvalSupported: false,
    standardFontDataUrl: main.dataset.fonts,
    withCredentials: true,
  }).promise;
  box.querySelector(".loading").textContent = "";
  const observer = new IntersectionObserver((entries) => {
    for (const entry of entries) {
      if (!entry.isIntersecting || entry.target.dataset.drawn) continue;
      entry.target.dataset.drawn = "1";
      observer.unobserve(entry.target);
      draw(doc, entry.target).catch(() => { entry.target.dataset.state = "error"; });
    }
  }, { root: null, rootMargin: "400px" });
  // Placeholders take the first page's size until each page is drawn.
  const vp = (await doc.getPage(1)).getViewport({ scale: 1 });
  for (let n = 1; n <= doc.numPages; n++) {
    const canvas = document.createElement("canvas");
    canvas.dataset.page = String(n);
    canvas.setAttribute("role", "img");
    canvas.setAttribute("aria-label", `${n} / ${doc.numPages}`);
    canvas.width = vp.width; canvas.height = vp.height;
    box.appendChild(canvas);
    observer.observe(canvas);
  }
  box.dataset.pages = String(doc.numPages);
  box.dataset.state = "ready";
}

async function draw(doc, canvas) {
  const page = await doc.getPage(Number(canvas.dataset.page));
  const scale = Math.min(2, (window.devicePixelRatio || 1) * 1.5);
  const viewport = page.getViewport({ scale });
  canvas.width = Math.floor(viewport.width);
  canvas.height = Math.floor(viewport.height);
  await page.render({ canvasContext: canvas.getContext("2d"), viewport }).promise;
  canvas.dataset.rendered = "1";
}

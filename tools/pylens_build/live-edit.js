// build.py serve only (the server adds it to the page): live editing. The server sends the paths of
// the files saved under py/, site/ and models/. A module under py/ or a model card is handed to the
// app's Python, which takes it in place, without a reload (py/live.py); any other change, or one
// that comes before the app is ready, reloads the page.
const inPlace = (path) => (/^py\/.+\.py$/.test(path) && path !== "py/main.py") || /^models\/[^/]+\.toml$/.test(path);
new EventSource("./__changes").addEventListener("change", ({ data }) => {
  const paths = JSON.parse(data);
  if (!window.pylens?.ready || !paths.every(inPlace)) return location.reload();
  dispatchEvent(new CustomEvent("pylens:live", { detail: JSON.stringify(paths) }));
});

// The page's elements the shell works with.
export const $ = (id) => document.getElementById(id);
// The page's error notice, as the shell shows it when Python cannot (py/page.py shows the app's).
export function showError(text) {
  $("error-text").textContent = text;
  $("error").hidden = false;
}
export const picture = $("picture"), overlay = $("overlay"), video = $("video"), stage = $("stage");

// A time in seconds as minutes and seconds, "1:05".
export const minutes = (seconds) => `${Math.floor(seconds / 60)}:${String(Math.floor(seconds % 60)).padStart(2, "0")}`;

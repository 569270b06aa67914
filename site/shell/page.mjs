// The page's elements the shell works with, and whether the app's Python is ready.
export const $ = (id) => document.getElementById(id);
export const picture = $("picture"), overlay = $("overlay"), video = $("video"), stage = $("stage");
export const app = { ready: false };  // Python takes pictures and calls

// A time in seconds as minutes and seconds, "1:05".
export const minutes = (seconds) => `${Math.floor(seconds / 60)}:${String(Math.floor(seconds % 60)).padStart(2, "0")}`;

// The page's elements the shell works with.
export const $ = (id) => document.getElementById(id);
export const picture = $("picture"), overlay = $("overlay"), video = $("video"), stage = $("stage");

// A time in seconds as minutes and seconds, "1:05".
export const minutes = (seconds) => `${Math.floor(seconds / 60)}:${String(Math.floor(seconds % 60)).padStart(2, "0")}`;

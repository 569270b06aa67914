// build.py bench: added to a page before its own scripts. It records how long the main thread was
// busy without answering, as [start, duration] pairs in milliseconds since navigation:
// - every long task (over 50 ms) the browser reports, in pylensLongTasks;
// - how late a 10 ms timer fires, in pylensBusy: shorter tasks show here.
window.pylensLongTasks = [];
new PerformanceObserver((list) => {
  for (const task of list.getEntries()) window.pylensLongTasks.push([task.startTime, task.duration]);
}).observe({ type: "longtask", buffered: true });

window.pylensBusy = [];
let due = performance.now() + 10;
const tick = () => {
  const now = performance.now();
  if (now > due) window.pylensBusy.push([due, now - due]);
  due = now + 10;
  setTimeout(tick, 10);
};
setTimeout(tick, 10);

// One component, six widgets: Draw (canvas, live reconstruction, code editor), Morph
// (Interpolate's slider), Hover (Explore's 2-d map), ClassMap (the Class page's map and morph),
// Teacher (the teacher's key to a room, kept on this device), Follow (a student's page following
// the room its teacher runs).
// Python picks one with `widget`.

import { ClassMapWidget } from "./classmap.js";
import { DrawWidget } from "./draw.js";
import { FollowWidget } from "./follow.js";
import { HoverWidget } from "./hover.js";
import { MorphWidget } from "./morph.js";
import { TeacherWidget } from "./teacher.js";
import { fitHeight, onRender, ready } from "./streamlit.js";

const WIDGETS = { draw: DrawWidget, morph: MorphWidget, hover: HoverWidget, classmap: ClassMapWidget, teacher: TeacherWidget, follow: FollowWidget };
const root = document.getElementById("root");
let widget = null;

function applyTheme(theme) {
  if (!theme) return;
  const style = document.documentElement.style;
  if (theme.textColor) style.setProperty("--text", theme.textColor);
  if (theme.backgroundColor) style.setProperty("--background", theme.backgroundColor);
  if (theme.primaryColor) style.setProperty("--primary", theme.primaryColor);
  if (theme.font) style.setProperty("--font", theme.font);
}

// A frame the page hides (a lesson's step not shown yet, ae/ui/steps.py) makes its widget once it is
// shown: a page that holds four canvases loads one runtime, not four, until the teacher moves on.
// Looked at every 200 ms while hidden: an engine need not resize a frame that is shown again.
const shown = () => {
  try {
    if (window.frameElement) return window.frameElement.getClientRects().length > 0;
  } catch {} // a frame of another origin: its own size says
  return window.innerWidth > 0;
};
let waiting = null; // the latest arguments of a hidden frame
let watch = null;

function render(args) {
  widget ??= new WIDGETS[args.widget](root);
  document.body.dataset.widget = args.widget; // which widget this frame is: the tests and the bench read it
  widget.update(args);
  window.aeLive = widget; // what the browser tests and the bench read
  fitHeight();
}

onRender((args, theme) => {
  applyTheme(theme);
  if (widget || shown()) return render(args);
  waiting = args;
  watch ??= setInterval(() => {
    if (!shown()) return;
    clearInterval(watch);
    const latest = waiting;
    waiting = watch = null;
    render(latest);
  }, 200);
});
ready();

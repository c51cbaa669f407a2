// A student's page follows the room its teacher runs: it asks our route (ae/web.py, /ae/room/<code>)
// for the room's state, held there until the teacher changes something, and hands every change to
// the page's other widgets (BroadcastChannel: pens down stops the canvas at once, with no trip
// through the server; the canvas says a pick of the student's own drawing). A page that holds
// every step of the lesson (the Draw page in a class, ae/ui/steps.py) is shown the new step here,
// by the rule Python gave for it, with no run of the server's; any other page reruns, and Python
// takes it to the Draw page.

import { setValue } from "./streamlit.js";
import { element } from "./widget.js";

const HERE = new URL("./", import.meta.url);
const STEP_STYLE = "ae-follow-step"; // the <style> this widget keeps in the page
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

export const channelOf = (room) => new BroadcastChannel(`ae-room-${room}`);

export class FollowWidget {
  constructor(root) {
    this.line = element("p", { class: "follow", role: "status", "aria-live": "polite" });
    root.append(this.line);
    this.state = null;
    this.answers = 0; // how many answers the route gave: the bench and the tests read it
  }

  update(args) {
    this.args = args;
    if (args.keep && args.keep !== this.kept) { // who this student is, kept by the browser for the room: a reload is the same student
      this.kept = args.keep;
      fetch(new URL("../../ae/me", HERE), { method: "POST", credentials: "same-origin", headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ room: args.room, token: args.keep }) }).catch(() => (this.kept = null));
    }
    if (this.state && args.state && args.state.step === this.state.step) this.moving = false; // the page has rerun to it
    if (this.room !== args.room) {
      this.room = args.room;
      this.state = args.state;
      this.channel?.close();
      this.channel = channelOf(args.room);
      this.channel.onmessage = (event) => event.data === "hello" && this.tell(); // a widget that came later
      this.follow(args.room);
    }
    this.tell();
    this.show();
    this.showStep();
  }

  async follow(room) {
    let pause = 0;
    while (this.room === room) {
      try {
        const response = await fetch(new URL(`../../ae/room/${room}?since=${this.state ? this.state.tag : ""}`, HERE), { cache: "no-store" });
        if (response.status === 404) return; // the class has ended: the page says so when it next runs
        if (!response.ok) throw new Error(`the class answered ${response.status}`);
        const state = await response.json();
        this.answers += 1;
        pause = 0;
        if (this.room === room) this.changed(state);
      } catch {
        pause = Math.min(2 * pause || 500, 10_000); // a server restarting, a network gone: ask again, less and less often
        await sleep(pause);
      }
    }
  }

  changed(state) {
    const before = this.state;
    if (before && state.tag === before.tag) return;
    this.state = state;
    this.heardAt = performance.timeOrigin + performance.now();
    const moved = before && state.step !== before.step;
    this.moving = moved && !this.showStep(); // said at once where the page must rerun to show the step
    this.tell();
    this.show();
    if (this.moving) setValue({ step: state.step, tag: state.tag }); // the page reruns at the new step
  }

  // The current step's rule over the page's own, where the page holds the steps; false where it
  // does not, or its document is out of reach (a page embedded elsewhere): then the page reruns.
  showStep() {
    const rules = this.args.rules;
    try {
      const page = window.parent.document;
      let style = page.getElementById(STEP_STYLE);
      if (!rules || !this.state) {
        style?.remove();
        if (this.args.follows) page.body.classList.remove(this.args.follows);
        return false;
      }
      if (!style) {
        style = page.createElement("style");
        style.id = STEP_STYLE;
        page.head.append(style);
      }
      style.textContent = rules[this.state.step] ?? rules[0];
      page.body.classList.add(this.args.follows); // the page's own rule (its last run's step) gives way to this one
      this.shownAt = performance.timeOrigin + performance.now();
      return true;
    } catch {
      return false;
    }
  }

  tell() {
    if (this.state) this.channel.postMessage(this.state);
  }

  show() {
    const words = this.args.words;
    const down = Boolean(this.state && this.state.pens_down);
    const step = this.state && this.state.step;
    const moved = !step ? words.ended : words.moved.replace("{}", words.steps[step - 1] || `step ${step}`);
    this.line.textContent = down ? words.pens_down : this.moving ? moved : "";
    this.line.classList.toggle("loud", down || Boolean(this.moving));
  }
}

// A student's page follows the room its teacher runs: it asks our route (ae/web.py, /ae/room/<code>)
// for the room's state, held there until the teacher changes something, and hands every change to
// the page's other widgets (BroadcastChannel: pens down stops the canvas at once, with no trip
// through the server; the canvas says a pick of the student's own drawing). A new lesson step
// reruns the page, whose Python shows that step.

import { setValue } from "./streamlit.js";
import { element } from "./widget.js";

const HERE = new URL("./", import.meta.url);
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
    this.moving = before && state.step !== before.step; // said at once; the page's rerun brings the step itself
    this.tell();
    this.show();
    if (this.moving) setValue({ step: state.step, tag: state.tag }); // the page reruns at the new step
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

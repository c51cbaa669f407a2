// The teacher's key to a room, kept on this device and never shown: the server sets it as a cookie
// (ae/web.py, /ae/teach) when this page asks, so a reload of the teacher's tab runs the room again
// while the address bar shows only the room's code; "Copy my private link" puts the link that does
// the same on another device on the clipboard, without putting it on the (projected) page.

import { element } from "./widget.js";

const HERE = new URL("./", import.meta.url);
const teach = (query = "") => new URL(`../../ae/teach${query}`, HERE);

export class TeacherWidget {
  constructor(root) {
    this.kept = null;
    this.copy = element("button", { type: "button", text: "Copy my private teacher link" });
    this.said = element("span", { class: "caption", role: "status" });
    this.copy.addEventListener("click", () => this.copyLink());
    root.append(element("div", { class: "teacher" }, this.copy, this.said));
  }

  update(args) {
    this.args = args;
    this.copy.hidden = !args.secret || !args.copy;
    const key = `${args.room} ${args.secret ? "keep" : "forget"}`;
    if (this.kept === key) return;
    this.kept = key;
    const done = args.secret
      ? fetch(teach(), { method: "POST", credentials: "same-origin", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ room: args.room, secret: args.secret }) })
      : fetch(teach(`?room=${encodeURIComponent(args.room)}`), { method: "DELETE", credentials: "same-origin" });
    this.state = done.then((response) => (response.ok ? "ok" : `refused (${response.status})`), (error) => `failed: ${error.message}`);
    this.state.then((state) => (this.stored = state));
  }

  async copyLink() {
    const link = teach(`?room=${encodeURIComponent(this.args.room)}&key=${encodeURIComponent(this.args.secret)}`).href;
    try {
      await navigator.clipboard.writeText(link);
      this.said.textContent = " Copied: open it on another device to run this room there. Keep it private.";
    } catch {
      this.said.textContent = " This browser would not copy it. On this device, a reload keeps the room yours.";
    }
  }
}

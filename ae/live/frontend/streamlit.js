// The custom-component protocol of Streamlit (what streamlit-component-lib does), by hand:
// the page sends "render" with the arguments, the component answers with a value and its height.

const handlers = [];

export function onRender(handler) {
  handlers.push(handler);
}

window.addEventListener("message", (event) => {
  const data = event.data;
  if (data && data.type === "streamlit:render") for (const handler of handlers) handler(data.args || {}, data.theme);
});

function send(type, data = {}) {
  window.parent.postMessage({ isStreamlitMessage: true, type, ...data }, "*");
}

export function ready() {
  send("streamlit:componentReady", { apiVersion: 1 });
}

export function setValue(value) {
  send("streamlit:setComponentValue", { value, dataType: "json" });
}

let lastHeight = -1;
export function fitHeight() {
  const height = Math.ceil(document.documentElement.getBoundingClientRect().height);
  if (height !== lastHeight) {
    lastHeight = height;
    send("streamlit:setFrameHeight", { height });
  }
}

new ResizeObserver(fitHeight).observe(document.documentElement);

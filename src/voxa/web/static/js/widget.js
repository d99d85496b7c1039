// voxa chat widget. Paste into any page:
//   <script src="https://voxa.example.com/widget.js" data-business="your-slug" async></script>
(function () {
  var origin = __VOXA_ORIGIN__;
  var script = document.currentScript;
  var slug = script && script.dataset.business;
  if (!slug) { console.error("voxa widget: add data-business=\"your-slug\" to the script tag"); return; }
  var open = false;
  var button = document.createElement("button");
  button.type = "button";
  button.textContent = script.dataset.label || "Chat with us";
  button.setAttribute("aria-expanded", "false");
  button.setAttribute("aria-controls", "voxa-widget-frame");
  button.style.cssText = "position:fixed;right:20px;bottom:20px;z-index:2147483000;padding:12px 18px;" +
    "border-radius:999px;border:none;background:#0b5cad;color:#fff;font:600 15px system-ui,sans-serif;" +
    "box-shadow:0 4px 14px rgba(0,0,0,.25);cursor:pointer";
  var frame = document.createElement("iframe");
  frame.id = "voxa-widget-frame";
  frame.title = "Chat with " + slug;
  frame.src = origin + "/chat/" + encodeURIComponent(slug) + "?embed=1";
  frame.allow = "microphone; autoplay";
  frame.hidden = true;
  frame.style.cssText = "position:fixed;right:20px;bottom:80px;width:min(380px,calc(100vw - 40px));" +
    "height:min(560px,calc(100vh - 120px));border:1px solid #d5dae1;border-radius:12px;" +
    "background:#fff;z-index:2147483000;box-shadow:0 8px 30px rgba(0,0,0,.25)";
  button.addEventListener("click", function () {
    open = !open;
    frame.hidden = !open;
    button.setAttribute("aria-expanded", String(open));
    button.textContent = open ? "Close chat" : (script.dataset.label || "Chat with us");
  });
  function mount() { document.body.appendChild(frame); document.body.appendChild(button); }
  if (document.body) mount(); else document.addEventListener("DOMContentLoaded", mount);
})();

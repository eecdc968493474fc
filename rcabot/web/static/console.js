// The console: the local Chat space as a page. It polls the space's messages and the team,
// draws threads and cards, and sends the same events Google Chat would send to /chat/events.
// Every time is shown in the bot's TimeZone on a 24-hour clock, as the bot writes them in its
// messages, so that a DND reads the same in a card, a panel and an answer.
//
// Every string from the server reaches the page as a text node or through richText(), which
// rebuilds the Chat HTML subset element by element; nothing from the server goes to innerHTML.
(() => {
  "use strict";

  const MESSAGES_EVERY_MS = 1000;
  const TEAM_EVERY_MS = 5000;
  const SPACE = document.body.dataset.space || "spaces/local";
  // "" for the one team; "/teams/NAME" with a Teams file: that team's console data and tickets.
  const BASE = document.body.dataset.base || "";
  const TOKEN_REQUIRED = document.body.dataset.tokenRequired === "true";
  const KEEP = { actAs: "rcabot.console.actAs", token: "rcabot.console.token" };

  const $ = (id) => document.getElementById(id);
  const state = {
    messages: [],
    byName: new Map(),
    managers: [],
    covers: [], // this shift's cover: {instead_of, covered_by} chat ids
    actAs: sessionStorage.getItem(KEEP.actAs) || "",
    token: TOKEN_REQUIRED ? sessionStorage.getItem(KEEP.token) || "" : "",
    zone: document.body.dataset.timeZone || "UTC",
    pending: new Set(), // names of messages with a click in flight
    openSections: new Set(), // "message#section" of expanded collapsible sections
  };

  // ---------------------------------------------------------------- rich text (Chat HTML subset)

  const ALLOWED_TAGS = new Set(["B", "I", "U", "S", "BR", "A", "TIME", "FONT"]);
  // Unknown tags are unwrapped (their text stays); these go with everything inside them.
  const DROPPED_TAGS = new Set(["SCRIPT", "STYLE", "TEMPLATE", "NOSCRIPT", "IFRAME", "OBJECT", "EMBED",
    "TEXTAREA", "TITLE", "SELECT", "SVG", "MATH", "HEAD"]);
  const COLOR = /^#?[0-9a-z]{1,20}$/i;

  function safeUrl(raw) {
    if (typeof raw !== "string" || !raw.trim()) return "";
    try {
      const url = new URL(raw.trim());
      return url.protocol === "http:" || url.protocol === "https:" ? url.href : "";
    } catch (_) {
      return "";
    }
  }

  // DOMParser documents are inert: no script runs and no image loads while we read them.
  // The <body> prefix keeps leading spaces, which the parser drops before the body starts.
  function richText(html) {
    const fragment = document.createDocumentFragment();
    if (html === undefined || html === null || html === "") return fragment;
    const parsed = new DOMParser().parseFromString(`<!doctype html><body>${html}`, "text/html");
    copyAllowed(parsed.body, fragment);
    return fragment;
  }

  function copyAllowed(from, to) {
    for (const node of from.childNodes) {
      if (node.nodeType === Node.TEXT_NODE) {
        to.appendChild(document.createTextNode(node.nodeValue));
        continue;
      }
      if (node.nodeType !== Node.ELEMENT_NODE) continue;
      const tag = node.nodeName.toUpperCase();
      if (DROPPED_TAGS.has(tag)) continue;
      if (!ALLOWED_TAGS.has(tag)) {
        copyAllowed(node, to);
        continue;
      }
      const element = document.createElement(tag.toLowerCase());
      if (tag === "A") {
        const href = safeUrl(node.getAttribute("href"));
        if (href) Object.assign(element, { href, target: "_blank", rel: "noopener noreferrer" });
      } else if (tag === "FONT") {
        const color = (node.getAttribute("color") || "").trim();
        if (COLOR.test(color)) element.setAttribute("color", color);
      }
      copyAllowed(node, element);
      to.appendChild(element);
    }
  }

  // ---------------------------------------------------------------- small DOM helpers

  function h(tag, attributes, ...children) {
    const element = document.createElement(tag);
    for (const [name, value] of Object.entries(attributes || {})) {
      if (value !== undefined && value !== null && value !== false) element.setAttribute(name, String(value));
    }
    for (const child of children) {
      if (child === undefined || child === null || child === false) continue;
      element.append(typeof child === "string" ? document.createTextNode(child) : child);
    }
    return element;
  }

  // Put exactly `nodes` in `parent`, in order, moving as little as possible (keeps text selections).
  function syncChildren(parent, nodes) {
    nodes.forEach((node, index) => {
      if (parent.children[index] !== node) parent.insertBefore(node, parent.children[index] || null);
    });
    while (parent.children.length > nodes.length) parent.lastElementChild.remove();
  }

  // Intl formats, built once per zone; en-GB and en-CA give the bot's own layouts.
  const FORMATS = {
    time: ["en-GB", { hour: "2-digit", minute: "2-digit", hourCycle: "h23" }],
    seconds: ["en-GB", { hour: "2-digit", minute: "2-digit", second: "2-digit", hourCycle: "h23" }],
    date: ["en-CA", { year: "numeric", month: "2-digit", day: "2-digit" }],
    day: ["en-GB", { weekday: "short", day: "2-digit", month: "short" }],
  };
  const formats = new Map();

  function inZone(kind, date) {
    const key = `${state.zone}|${kind}`;
    if (!formats.has(key)) formats.set(key, format(kind));
    return formats.get(key).format(date).replace(",", "");
  }

  function format(kind) {
    const [locale, options] = FORMATS[kind];
    try {
      return new Intl.DateTimeFormat(locale, { ...options, timeZone: state.zone });
    } catch (_) { // a zone this browser does not know: UTC, which the header then names
      $("time-zone").textContent = "UTC";
      return new Intl.DateTimeFormat(locale, { ...options, timeZone: "UTC" });
    }
  }

  function parsed(iso) {
    const date = new Date(iso);
    return Number.isNaN(date.getTime()) ? null : date;
  }

  function clockTime(iso, withSeconds) {
    const date = parsed(iso);
    return date ? inZone(withSeconds ? "seconds" : "time", date) : String(iso || "");
  }

  // As the bot says it: "14:30" today, "tomorrow 09:15", "yesterday 23:00", else "Tue 24 Nov 14:30".
  function whenTime(iso) {
    const date = parsed(iso);
    if (!date) return String(iso || "");
    const today = inZone("date", new Date());
    const labels = { [today]: "", [nextDay(today, 1)]: "tomorrow ", [nextDay(today, -1)]: "yesterday " };
    const label = labels[inZone("date", date)];
    return `${label === undefined ? `${inZone("day", date)} ` : label}${inZone("time", date)}`;
  }

  // For a tooltip: the whole moment, with its zone named.
  function fullTime(iso) {
    const date = parsed(iso);
    return date ? `${inZone("date", date)} ${inZone("seconds", date)} (${state.zone})` : String(iso || "");
  }

  function nextDay(isoDate, days) {
    const [year, month, day] = isoDate.split("-").map(Number);
    return new Date(Date.UTC(year, month - 1, day + days)).toISOString().slice(0, 10);
  }

  function show(element, text, kind) {
    element.textContent = text;
    element.dataset.state = kind;
    element.hidden = false;
  }

  function showNotice(text, kind) {
    $("notice-text").textContent = text;
    $("notice").dataset.state = kind || "error";
    $("notice").hidden = false;
  }

  // ---------------------------------------------------------------- talking to the server

  class TokenRefused extends Error {}

  function authorization() {
    return state.token ? { Authorization: `Bearer ${state.token}` } : {};
  }

  // With a token set on the bot and none given yet, the page reads nothing until it has one.
  function locked() {
    return TOKEN_REQUIRED && !state.token;
  }

  async function getJson(url) {
    const response = await fetch(url, { headers: { Accept: "application/json", ...authorization() }, cache: "no-store" });
    if (response.status === 401 && TOKEN_REQUIRED) throw new TokenRefused(url);
    if (!response.ok) throw new Error(`${url} answered HTTP ${response.status}`);
    return response.json();
  }

  function failed(error) {
    if (error instanceof TokenRefused) askToken("The bot refused that token. Check RCABOT_API_TOKEN.");
    else connection(error.message);
  }

  async function postJson(url, payload) {
    let response;
    try {
      response = await fetch(url, {
        method: "POST",
        headers: { "Content-Type": "application/json", Accept: "application/json", ...authorization() },
        body: JSON.stringify(payload),
      });
    } catch (error) {
      return { ok: false, status: 0, data: null, error: `the server did not answer (${error.message})` };
    }
    let data = null;
    try {
      data = await response.json();
    } catch (_) {
      data = null;
    }
    if (response.status === 401 && TOKEN_REQUIRED) askToken("The bot refused that token. Check RCABOT_API_TOKEN.");
    const error = response.ok ? "" : (data && typeof data.error === "string" && data.error)
      || `HTTP ${response.status} ${response.statusText}`;
    return { ok: response.ok, status: response.status, data, error };
  }

  function connection(problem) {
    const banner = $("connection");
    if (problem) show(banner, `Cannot reach the bot (${problem}); retrying…`, "error");
    else banner.hidden = true;
  }

  let requested = 0;
  let applied = 0;
  let lastMessagesJson = "";

  async function refreshMessages() {
    if (locked()) return;
    const ticket = ++requested;
    let data;
    try {
      data = await getJson(BASE + "/console/messages");
      connection("");
    } catch (error) {
      failed(error);
      return;
    }
    if (ticket < applied) return; // an older answer that arrived late
    applied = ticket;
    const messages = Array.isArray(data.messages) ? data.messages : [];
    const json = JSON.stringify(messages);
    if (json === lastMessagesJson) return;
    lastMessagesJson = json;
    state.messages = messages.filter((m) => m && typeof m.name === "string");
    state.byName = new Map(state.messages.map((m) => [m.name, m]));
    renderThreads();
  }

  let lastTeamJson = "";

  // The Team and Status panels say the same things (who is on, pinged, in DND): they are read
  // and drawn together, so that one never shows what the other does not yet.
  async function refreshTeam() {
    if (locked()) return;
    let team;
    let status;
    try {
      [team, status] = await Promise.all([getJson(BASE + "/console/managers"), getJson(BASE + "/console/status")]);
    } catch (error) {
      failed(error);
      return;
    }
    const json = JSON.stringify([team, status]);
    if (json === lastTeamJson) return;
    lastTeamJson = json;
    setZone(team.time_zone);
    state.managers = Array.isArray(team.managers) ? team.managers : [];
    state.covers = Array.isArray(team.covers) ? team.covers.filter((c) => c && c.instead_of && c.covered_by) : [];
    $("shift").textContent = team.shift ? `shift ${team.shift}` : "";
    renderToday(team);
    renderActAs();
    renderManagers();
    renderStatus(Array.isArray(status.rows) ? status.rows : []);
  }

  function setZone(zone) {
    if (typeof zone !== "string" || !zone || zone === state.zone) return;
    state.zone = zone;
    $("time-zone").textContent = zone;
    renderThreads();
  }

  // The header's notes on the day: a holiday, and no shift on (tickets wait for the next one).
  function renderToday(team) {
    const holiday = typeof team.holiday === "string" && team.holiday ? team.holiday : "";
    $("holiday").textContent = holiday ? `Holiday: ${holiday}` : "";
    $("holiday").hidden = !holiday;
    const noShift = $("no-shift");
    noShift.hidden = team.shift !== 0;
    noShift.textContent = team.next_shift_start ? `No shift on — next starts ${whenTime(team.next_shift_start)}`
      : "No shift on — none coming up";
    noShift.title = team.next_shift_start ? fullTime(team.next_shift_start) : "";
  }

  function renderStatus(rows) {
    const body = rows.slice(1).filter((r) => r[0] !== "Refreshed").map((r) => h("tr",
      { "data-testid": "status-row", class: r[0] === "Problem" ? "is-problem" : "" },
      h("th", { scope: "row" }, String(r[0] || "")), h("td", {}, String(r[1] || "")),
      h("td", { class: "muted" }, String(r[2] || ""))));
    $("bot-status").querySelector("tbody").replaceChildren(...body);
  }

  async function refreshAll() {
    await Promise.all([refreshMessages(), refreshTeam()]);
  }

  function loop(refresh, everyMs) {
    const run = () => refresh().finally(() => setTimeout(run, everyMs));
    run();
  }

  // ---------------------------------------------------------------- who the page acts as

  function currentUser() {
    const manager = state.managers.find((m) => m.chat_id === state.actAs);
    return manager ? { name: manager.chat_id, displayName: manager.name, type: "HUMAN" } : null;
  }

  function spaceObject() {
    return { name: SPACE, type: "ROOM", spaceType: "SPACE" };
  }

  function renderActAs() {
    const select = $("act-as");
    const known = state.managers.some((m) => m.chat_id === state.actAs);
    if (!known) {
      const first = state.managers.find((m) => m.on_shift) || state.managers[0];
      setActAs(first ? first.chat_id : "");
    }
    const options = state.managers.map((m) => {
      const notes = [m.on_shift ? "on shift" : "off shift", m.active ? "" : "inactive", m.away ? "away" : "",
        m.dnd_until ? "DND" : ""];
      const label = `${m.name} (${notes.filter(Boolean).join(", ")})`;
      return h("option", { value: m.chat_id }, label);
    });
    select.replaceChildren(...options);
    select.value = state.actAs;
  }

  function setActAs(chatId) {
    if (chatId === state.actAs) return;
    state.actAs = chatId;
    if (chatId) sessionStorage.setItem(KEEP.actAs, chatId);
    renderThreads();
    renderManagers();
  }

  function renderManagers() {
    const items = state.managers.map((m) => {
      const badges = [];
      if (!m.active) badges.push(h("span", { class: "badge badge-off" }, "inactive"));
      else if (m.on_shift) badges.push(h("span", { class: "badge badge-on", "data-testid": "on-shift" }, "on shift"));
      if (m.dnd_until) {
        badges.push(h("span", { class: "badge badge-dnd", "data-testid": "dnd", title: fullTime(m.dnd_until) },
          `DND until ${whenTime(m.dnd_until)}`));
      }
      if (m.away) badges.push(awayBadge(m.away));
      badges.push(...coverBadges(m.chat_id));
      if (m.holding) badges.push(h("span", { class: "badge badge-hold" }, `pinged: ${m.holding}`));
      const you = m.chat_id === state.actAs ? h("span", { class: "you" }, "you") : null;
      return h("li", {
        class: `manager${m.on_shift ? " is-on" : ""}${m.chat_id === state.actAs ? " is-you" : ""}`,
        "data-testid": "manager", "data-chat-id": m.chat_id,
      },
      h("span", { class: "manager-name" }, m.name, you),
      h("span", { class: "manager-shifts muted" }, m.shifts === "all" ? "all shifts" : `shift ${m.shifts}`),
      h("span", { class: "badges" }, ...badges));
    });
    $("manager-status").replaceChildren(...items);
  }

  function awayBadge(away) {
    const until = away.until ? ` until ${whenTime(away.until)}` : "";
    const reason = typeof away.reason === "string" && away.reason ? ` (${away.reason})` : "";
    return h("span", { class: "badge badge-away", "data-testid": "away", title: away.until ? fullTime(away.until) : null },
      `away${until}${reason}`);
  }

  // "covering for" on whoever stands in this shift, "covered by" on whoever they stand in for.
  function coverBadges(chatId) {
    const covering = state.covers.filter((c) => c.covered_by === chatId).map((c) => managerName(c.instead_of));
    const coveredBy = state.covers.filter((c) => c.instead_of === chatId).map((c) => managerName(c.covered_by));
    return [
      covering.length ? h("span", { class: "badge badge-cover", "data-testid": "covering" },
        `covering for ${covering.join(", ")}`) : null,
      coveredBy.length ? h("span", { class: "badge badge-covered", "data-testid": "covered" },
        `covered by ${coveredBy.join(", ")}`) : null,
    ].filter(Boolean);
  }

  function managerName(chatId) {
    const manager = state.managers.find((m) => m.chat_id === chatId);
    return manager ? manager.name : String(chatId);
  }

  // ---------------------------------------------------------------- threads and messages

  const threadViews = new Map(); // thread name -> {element, list, title}
  const messageViews = new Map(); // message name -> {element, signature}

  function visibleToMe(message) {
    const viewer = message.privateMessageViewer;
    return !viewer || (Boolean(viewer.name) && viewer.name === state.actAs);
  }

  // Threads in order of their newest message (newest activity last, as in Google Chat).
  function groupThreads() {
    const threads = new Map();
    state.messages.forEach((message, index) => {
      if (!visibleToMe(message)) return;
      const name = (message.thread && message.thread.name) || message.name;
      const thread = threads.get(name) || { name, messages: [], latest: 0 };
      thread.messages.push(message);
      thread.latest = index;
      threads.set(name, thread);
    });
    return [...threads.values()].sort((a, b) => a.latest - b.latest);
  }

  function renderThreads() {
    const threads = groupThreads();
    const wanted = new Set(threads.map((t) => t.name));
    for (const name of threadViews.keys()) if (!wanted.has(name)) threadViews.delete(name);
    const shownMessages = new Set();
    const elements = threads.map((thread) => {
      const view = threadViews.get(thread.name) || threadView(thread.name);
      threadViews.set(thread.name, view);
      const ticket = threadTicket(thread.messages);
      view.title.textContent = ticket || "Thread";
      view.element.dataset.ticket = ticket;
      view.count.textContent = thread.messages.length === 1 ? "1 message" : `${thread.messages.length} messages`;
      thread.messages.forEach((m) => shownMessages.add(m.name));
      syncChildren(view.list, thread.messages.map(messageElement));
      return view.element;
    });
    for (const name of messageViews.keys()) if (!shownMessages.has(name)) messageViews.delete(name);
    syncChildren($("threads"), elements);
    $("empty").hidden = threads.length > 0 || locked();
  }

  function threadView(name) {
    const title = h("span", { class: "thread-title", "data-testid": "thread-title" });
    const count = h("span", { class: "muted" });
    const list = h("ol", { class: "thread-messages" });
    const element = h("section", { class: "thread", "data-testid": "thread", "data-thread": name },
      h("div", { class: "thread-head" }, title, count), list);
    return { element, title, count, list };
  }

  function threadTicket(messages) {
    for (const message of messages) {
      for (const cardWithId of message.cardsV2 || []) {
        const header = cardWithId && cardWithId.card && cardWithId.card.header;
        if (header && header.subtitle) return String(header.subtitle);
      }
    }
    return "";
  }

  function messageElement(message) {
    const signature = [JSON.stringify(message), state.actAs, state.pending.has(message.name), state.zone].join("\u0000");
    const cached = messageViews.get(message.name);
    if (cached && cached.signature === signature) return cached.element;
    const element = renderMessage(message);
    messageViews.set(message.name, { element, signature });
    return element;
  }

  function renderMessage(message) {
    const sender = message.sender || {};
    const senderName = sender.displayName || sender.name || "Unknown";
    const initials = senderName.split(/\s+/).map((w) => w[0] || "").join("").slice(0, 2).toUpperCase();
    const edited = message.lastUpdateTime && message.lastUpdateTime !== message.createTime;
    const meta = h("div", { class: "message-meta" },
      h("span", { class: "sender" }, senderName),
      sender.type === "BOT" ? h("span", { class: "app-badge" }, "App") : null,
      h("time", { datetime: message.createTime, title: fullTime(message.createTime) }, clockTime(message.createTime, true)),
      edited ? h("span", { class: "muted", title: `edited ${fullTime(message.lastUpdateTime)}`, "data-testid": "edited" }, "edited") : null,
      message.privateMessageViewer
        ? h("span", { class: "private", "data-testid": "private" }, "Only visible to you") : null);
    const body = h("div", { class: "message-body" }, meta);
    if (message.text) body.append(h("div", { class: "message-text", "data-testid": "message-text" }, messageText(message)));
    for (const cardWithId of message.cardsV2 || []) body.append(renderCard(cardWithId, message));
    return h("li", {
      class: `message${message.privateMessageViewer ? " is-private" : ""}`,
      "data-testid": "message", "data-message": message.name,
    }, h("div", { class: "avatar", "aria-hidden": "true" }, initials), body);
  }

  // Text with its USER_MENTION annotations drawn as mention chips.
  function messageText(message) {
    const text = String(message.text);
    const fragment = document.createDocumentFragment();
    const mentions = (message.annotations || [])
      .filter((a) => a && a.type === "USER_MENTION" && a.userMention && a.userMention.user)
      .sort((a, b) => (a.startIndex || 0) - (b.startIndex || 0));
    let position = 0;
    for (const annotation of mentions) {
      const user = annotation.userMention.user;
      const label = `@${user.displayName || user.name}`;
      let start = Number(annotation.startIndex) || 0;
      if (text.slice(start, start + label.length) !== label) start = text.indexOf(label, position);
      if (start < position) continue;
      fragment.append(richText(text.slice(position, start)));
      fragment.append(h("span", {
        class: `mention${user.name === state.actAs ? " mention-you" : ""}`,
        "data-testid": "mention", "data-user": user.name, title: user.name,
      }, label));
      position = start + label.length;
    }
    fragment.append(richText(text.slice(position)));
    return fragment;
  }

  // ---------------------------------------------------------------- cards v2

  function renderCard(cardWithId, message) {
    const card = (cardWithId && cardWithId.card) || {};
    const element = h("div", { class: "card", "data-testid": "card", "data-card-id": cardWithId.cardId || "" });
    if (card.header) {
      element.append(h("div", { class: "card-header" },
        h("div", { class: "card-title", "data-testid": "card-title" }, String(card.header.title || "")),
        card.header.subtitle ? h("div", { class: "card-subtitle" }, String(card.header.subtitle)) : null));
    }
    (card.sections || []).forEach((section, index) => element.append(renderSection(section, `${message.name}#${index}`, message)));
    return element;
  }

  function renderSection(section, key, message) {
    const element = h("div", { class: "card-section" });
    if (section.header) element.append(h("div", { class: "section-header" }, richText(section.header)));
    const widgets = (section.widgets || []).map((w) => renderWidget(w, message));
    if (!section.collapsible) {
      element.append(...widgets);
      return element;
    }
    const always = Math.max(0, Number(section.uncollapsibleWidgetsCount) || 0);
    element.append(...widgets.slice(0, always));
    const more = h("details", { class: "section-more" }, h("summary", {}, "Show more"), ...widgets.slice(always));
    more.open = state.openSections.has(key);
    more.addEventListener("toggle", () => {
      if (more.open) state.openSections.add(key);
      else state.openSections.delete(key);
    });
    element.append(more);
    return element;
  }

  function renderWidget(widget, message) {
    if (widget.decoratedText) return decoratedText(widget.decoratedText, message);
    if (widget.textParagraph) {
      return h("div", { class: "widget text-paragraph" }, richText(widget.textParagraph.text));
    }
    if (widget.buttonList) {
      const buttons = (widget.buttonList.buttons || []).map((b) => renderButton(b, message));
      return h("div", { class: "widget button-list" }, ...buttons);
    }
    if (widget.divider !== undefined) return h("hr", { class: "widget divider" });
    const kind = Object.keys(widget).find((k) => k !== "horizontalAlignment") || "empty";
    return h("div", { class: "widget muted" }, `[${kind} widget: not drawn by the console]`);
  }

  function decoratedText(widget, message) {
    return h("div", { class: "widget decorated-text" },
      h("div", { class: "decorated-body" },
        widget.topLabel ? h("div", { class: "top-label" }, richText(widget.topLabel)) : null,
        h("div", { class: `decorated-main${widget.wrapText ? " wrap" : ""}` }, richText(widget.text)),
        widget.bottomLabel ? h("div", { class: "bottom-label" }, richText(widget.bottomLabel)) : null),
      widget.button ? renderButton(widget.button, message) : null);
  }

  function buttonStyle(button) {
    const color = button.color;
    if (color && ["red", "green", "blue"].some((c) => typeof color[c] === "number")) {
      const channel = (c) => Math.round(Math.min(1, Math.max(0, Number(color[c]) || 0)) * 255);
      return { className: "btn btn-filled", background: `rgb(${channel("red")}, ${channel("green")}, ${channel("blue")})` };
    }
    const types = { FILLED: "btn-filled", FILLED_TONAL: "btn-tonal", BORDERLESS: "btn-borderless" };
    return { className: `btn ${types[button.type] || "btn-outlined"}`, background: "" };
  }

  function renderButton(button, message) {
    const onClick = button.onClick || {};
    const label = String(button.text || button.altText || "Button");
    const style = buttonStyle(button);
    if (onClick.openLink) {
      const url = safeUrl(onClick.openLink.url);
      const link = h("a", { class: style.className, "data-testid": "card-button", "data-kind": "link" }, label);
      if (url && !button.disabled) Object.assign(link, { href: url, target: "_blank", rel: "noopener noreferrer" });
      else link.setAttribute("aria-disabled", "true");
      link.style.background = style.background;
      return link;
    }
    const action = onClick.action;
    const element = h("button", {
      type: "button", class: style.className, "data-testid": "card-button", "data-kind": "action",
      "data-action": action && action.function,
    }, label);
    element.style.background = style.background;
    element.disabled = Boolean(button.disabled) || !action || !action.function || state.pending.has(message.name);
    element.addEventListener("click", () => clickCard(message.name, action));
    return element;
  }

  // ---------------------------------------------------------------- events sent to the bot

  function cardClickedEvent(message, action, user) {
    const parameters = (action.parameters || []).map((p) => ({ key: String(p.key), value: String(p.value) }));
    return {
      type: "CARD_CLICKED",
      eventTime: new Date().toISOString(),
      message,
      user,
      space: spaceObject(),
      action: { actionMethodName: action.function, parameters },
      common: {
        hostApp: "CHAT",
        invokedFunction: action.function,
        parameters: Object.fromEntries(parameters.map((p) => [p.key, p.value])),
      },
    };
  }

  async function clickCard(messageName, action) {
    const user = currentUser();
    if (!user) {
      showNotice("Choose who you are in “Act as” first.", "error");
      return;
    }
    const message = state.byName.get(messageName);
    if (!message) return;
    state.pending.add(messageName);
    renderThreads();
    const result = await postJson("/chat/events", cardClickedEvent(message, action, user));
    state.pending.delete(messageName);
    if (result.ok) $("notice").hidden = true;
    else showNotice(`${action.function} as ${user.displayName} was refused (${result.status || "no answer"}): ${result.error}`, "error");
    renderThreads();
    await refreshAll();
  }

  async function sendMessage(event) {
    event.preventDefault();
    const input = $("message-text");
    if (await sendCommand(input.value.trim())) input.value = "";
  }

  // Sends `text` as the Act-as manager, as Chat would, and shows the answer by the message box.
  // True when the bot took it.
  async function sendCommand(text) {
    const user = currentUser();
    if (!text) return false;
    if (!user) {
      show($("message-result"), "Choose who you are in “Act as” first.", "error");
      return false;
    }
    const now = new Date().toISOString();
    const name = `${SPACE}/messages/console-${Date.now()}`;
    const result = await postJson("/chat/events", {
      type: "MESSAGE",
      eventTime: now,
      message: { name, sender: user, createTime: now, text, argumentText: text, space: spaceObject() },
      user,
      space: spaceObject(),
    });
    await refreshAll(); // a command (dnd, back, away) may have changed someone's availability
    showAnswer(result, user, name);
    return result.ok;
  }

  // ---------------------------------------------------------------- the away form

  // The form says what `away` says: From and To are days in the bot's zone (To blank: From's day).
  // The bot checks the range and answers, refusal included, by the message box.
  function awayCommand() {
    const from = $("away-from").value;
    const to = $("away-to").value || from;
    const reason = $("away-reason").value.trim().replace(/\s+/g, " ");
    return ["away", from, "to", to, reason].filter(Boolean).join(" ");
  }

  // The fields keep what was typed: a refused range can be mended rather than typed again.
  function setAway(event) {
    event.preventDefault();
    if ($("away-from").value) withAwayButtons(() => sendCommand(awayCommand()));
  }

  function comeBack() {
    return withAwayButtons(() => sendCommand("away off"));
  }

  async function withAwayButtons(send) {
    const buttons = [$("away-set"), $("away-back")];
    buttons.forEach((b) => { b.disabled = true; });
    try {
      return await send();
    } finally {
      buttons.forEach((b) => { b.disabled = false; });
    }
  }

  // Opened, the form starts at today (in the bot's zone) unless a day is already there.
  function openAway() {
    if ($("away").open && !$("away-from").value) $("away-from").value = inZone("date", new Date());
  }

  // The answer goes in the space, in the message's thread, which may be far below the box:
  // it is shown here too, with a way to the thread.
  function showAnswer(result, user, name) {
    const output = $("message-result");
    if (!result.ok) {
      show(output, `Refused (${result.status || "no answer"}): ${result.error}`, "error");
      return;
    }
    const answer = answerMessage(result.data);
    output.replaceChildren(h("div", { class: "answer-head" }, `Sent as ${user.displayName}. The bot answered:`),
      h("div", { class: "answer-text", "data-testid": "answer" },
        answer.text ? messageText(answer) : "(a card: see it in the space)"),
      h("button", { type: "button", class: "link-button reveal", "data-testid": "show-answer" }, "Show in the space"));
    output.querySelector(".reveal").addEventListener("click", () => reveal(name));
    output.dataset.state = "ok";
    output.hidden = false;
    output.scrollIntoView({ block: "nearest" });
  }

  // A classic answer is the message; a Workspace add-on answer wraps it.
  function answerMessage(answer) {
    const action = (answer && answer.hostAppDataAction && answer.hostAppDataAction.chatDataAction) || {};
    const wrapped = action.createMessageAction || action.updateMessageAction;
    return (wrapped && wrapped.message) || answer || {};
  }

  function reveal(messageName) {
    const view = messageViews.get(messageName);
    const thread = view && view.element.closest("[data-testid='thread']");
    if (!thread) return;
    thread.scrollIntoView({ block: "center", behavior: "smooth" });
    thread.classList.remove("is-flashing");
    void thread.offsetWidth; // restart the animation when the same thread is shown twice
    thread.classList.add("is-flashing");
  }

  // ---------------------------------------------------------------- the ticket API

  function startedText(status, ticket) {
    const who = ticket.manager ? ` (${ticket.manager.name})` : "";
    if (status === 202) return `Started ${ticket.ticket_id}: ${ticket.status}${who}.`;
    return `${ticket.ticket_id} is already in the cycle: ${ticket.status}${who}.`;
  }

  async function startTicket(event) {
    event.preventDefault();
    const ticketId = $("ticket-id").value.trim();
    const output = $("start-result");
    if (!ticketId) {
      show(output, "The ticket id is required.", "error");
      return;
    }
    const button = $("start-ticket");
    button.disabled = true;
    const result = await postJson(BASE + "/tickets", {
      ticket_id: ticketId, title: $("ticket-title").value.trim(), url: $("ticket-url").value.trim(),
    });
    button.disabled = false;
    if (result.ok && result.data) {
      show(output, startedText(result.status, result.data), "ok");
      if (result.status === 202) ["ticket-id", "ticket-title", "ticket-url"].forEach((id) => { $(id).value = ""; });
    } else {
      show(output, `Refused (${result.status || "no answer"}): ${result.error}`, "error");
    }
    await refreshAll();
  }

  // ---------------------------------------------------------------- the API token

  function askToken(problem) {
    const panel = $("token-panel");
    const first = panel.hidden;
    state.token = "";
    sessionStorage.removeItem(KEEP.token);
    $("token-problem").textContent = problem
      || "RCABOT_API_TOKEN is set, so the console needs the token to show the space and act in it.";
    panel.hidden = false;
    $("empty").hidden = true;
    if (first) $("api-token").focus();
  }

  function useToken(event) {
    event.preventDefault();
    const input = $("api-token");
    const token = input.value.trim();
    if (!token) return;
    state.token = token;
    sessionStorage.setItem(KEEP.token, token); // this tab only, gone when it closes
    input.value = "";
    $("token-panel").hidden = true;
    refreshAll();
  }

  // ---------------------------------------------------------------- start

  function start() {
    $("act-as").addEventListener("change", (event) => setActAs(event.target.value));
    $("start-form").addEventListener("submit", startTicket);
    $("message-form").addEventListener("submit", sendMessage);
    $("away").addEventListener("toggle", openAway);
    $("away-form").addEventListener("submit", setAway);
    $("away-back").addEventListener("click", comeBack);
    $("notice-close").addEventListener("click", () => { $("notice").hidden = true; });
    if (TOKEN_REQUIRED) {
      $("token-form").addEventListener("submit", useToken);
      if (locked()) askToken("");
    }
    loop(refreshTeam, TEAM_EVERY_MS);
    loop(refreshMessages, MESSAGES_EVERY_MS);
  }

  start();
})();

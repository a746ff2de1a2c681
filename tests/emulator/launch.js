#!/usr/bin/env node
'use strict';
// Telegram Bot API emulator for newsbot tests: `node launch.js --port N [--verbose]`.
//
// Starts telegram-test-api@4.2.1 on 127.0.0.1:N with routes overridden so that
// python-telegram-bot 22 works against it (full getMe User, proper Message results,
// long-polling getUpdates with offset confirmation, chat actions, bot commands,
// callback queries with chat_instance, documents users send and getFile/downloads of
// them) and with Telegram's 4096-character and HTML checks (HTTP 400 like the real
// API). Our routes are put in front of the stock ones.
//
// Client-side routes (JSON or form body; `token` selects the bot):
//   POST /sendMessage, /sendCommand   {token, text, user_id, chat_id?, chat_type?, first_name?,
//                                       username?, chat_title?, mention?, entities?,
//                                       reply_to_message_id?}          -> {message, update_id}
//   POST /sendCallback                {token, chat_id, message_id, data, user_id, first_name?}
//                                                                       -> {callback_query, update_id}
//   POST /sendDocument?token=..&file_name=..  the body is the file's bytes; the query also takes
//                                       mime_type?, caption?, file_size? (claim more than sent,
//                                       e.g. to test a size cap) and the fields of /sendMessage
//                                       except text/entities     -> {message, update_id}
//                                       The bot's getFile gives {file_id, file_unique_id, file_size,
//                                       file_path} (400 "file is too big" over 20 MB, like the
//                                       cloud API) and GET /file/bot<token>/<file_path> the bytes.
//   POST /emulator/block              {token, chat_id}: from now on every Bot API method aimed
//                                       at the chat answers 403 "bot was blocked by the user"
//   POST /emulator/fail               {token, chat_id, times, code?}: the next `times` Bot API
//                                       calls aimed at the chat fail with `code` (default 500),
//                                       as when Telegram has a bad moment
//   GET|POST /emulator/history        {token, chat_id?} -> {chats, messages (latest state,
//                                       edits applied), chat_actions, commands, callback_answers,
//                                       file_requests: [{kind: getFile|download, file_id}],
//                                       shown: [{chat_id, message_id, text}]: every text a bot
//                                       message showed, sent or edited, in order};
//                                       messages and chat actions carry `seq`, their order
//   POST /emulator/reset {token}; GET /emulator/health
// The stock /getUpdates and /getUpdatesHistory client routes keep working.

const TelegramServer = require('telegram-test-api');
const { routes } = require('telegram-test-api/lib/routes/index');
const { unknownMethod } = require('telegram-test-api/lib/routes/bot/unknownMethod');
const { parseHtml, EntityParseError } = require('./html');

const HOST = '127.0.0.1';
const BOT_USERNAME = 'newsbot_test_bot';
const MAX_TEXT_LENGTH = 4096;
const MAX_POLL_SECONDS = 50;
const MAX_DOWNLOAD_BYTES = 20 * 1024 * 1024; // getFile's limit on the cloud Bot API
const MAX_UPLOAD_BYTES = 64 * 1024 * 1024; // what /sendDocument accepts in one body
const CHAT_TYPES = new Set(['private', 'group', 'supergroup']);
const CHAT_ACTIONS = new Set(['typing', 'upload_photo', 'record_video', 'upload_video',
  'record_voice', 'upload_voice', 'upload_document', 'choose_sticker', 'find_location',
  'record_video_note', 'upload_video_note']);
const JSON_FIELDS = new Set(['reply_markup', 'entities', 'reply_parameters', 'commands', 'scope',
  'allowed_updates', 'link_preview_options', 'from', 'chat']);
const NOT_MODIFIED = 'message is not modified: specified new message content and reply markup'
  + ' are exactly the same as a current content and reply markup of the message';

class ApiError extends Error {
  constructor(code, description) {
    super(description);
    this.code = code;
  }
}
const badRequest = (reason) => new ApiError(400, `Bad Request: ${reason}`);
const blocked = () => new ApiError(403, 'Forbidden: bot was blocked by the user');
const now = () => Math.floor(Date.now() / 1000);
const clone = (x) => structuredClone(x);

// ---------------------------------------------------------------- state per bot token
const bots = new Map();
function botState(token) {
  if (!bots.has(token)) {
    const id = Number(String(token).split(':')[0]) || 7000000001;
    const from = { id, is_bot: true, first_name: 'NewsBot Test', username: BOT_USERNAME };
    bots.set(token, {
      token,
      from, // Message.from of bot messages
      user: { ...from, can_join_groups: true, can_read_all_group_messages: false,
        supports_inline_queries: false, can_connect_to_business: false,
        has_main_web_app: false },
      chats: new Map(), // chat id -> Chat
      messages: new Map(), // "chatId:messageId" -> Message (latest state)
      chatActions: [],
      commands: new Map(), // scope+language -> [BotCommand]
      callbackAnswers: [],
      files: new Map(), // file_id -> {file (as getFile gives it), bytes}
      filePaths: new Map(), // file_path -> file_id
      fileRequests: [], // {kind: 'getFile' | 'download', file_id}, in order
      shown: [], // {chat_id, message_id, text}: every text a bot message showed, in order
      blocked: new Set(), // chat ids whose every method answers 403
      failing: new Map(), // chat id -> {times, code}: the next calls that fail
      poller: null, // the getUpdates request currently waiting
    });
  }
  return bots.get(token);
}
const msgKey = (chatId, messageId) => `${Number(chatId)}:${Number(messageId)}`;

function registerChat(bot, chat) {
  const known = bot.chats.get(chat.id);
  bot.chats.set(chat.id, known ? Object.assign(known, chat) : chat);
  return bot.chats.get(chat.id);
}

function chatForBot(bot, chatId) {
  const id = Number(chatId);
  if (!Number.isInteger(id) || id === 0) throw badRequest('chat not found');
  if (bot.chats.has(id)) return bot.chats.get(id);
  // A chat the client never wrote in: infer it from the id, like Telegram's id ranges.
  if (id > 0) return registerChat(bot, { id, type: 'private', first_name: `User ${id}` });
  const type = id <= -1000000000000 ? 'supergroup' : 'group';
  return registerChat(bot, { id, type, title: `Chat ${id}` });
}

function replySnapshot(bot, chatId, messageId) {
  const original = bot.messages.get(msgKey(chatId, messageId));
  if (!original) return null;
  const { reply_to_message: _, ...rest } = original;
  return clone(rest);
}

// One counter over every stored message and chat action, so tests can check their order
// (dates are whole seconds). A message keeps the number it got when it was first stored.
let sequence = 0;
const sentAt = new Map(); // token + msgKey -> sequence number

function storeMessage(bot, message) {
  const key = msgKey(message.chat.id, message.message_id);
  if (!sentAt.has(`${bot.token}/${key}`)) sentAt.set(`${bot.token}/${key}`, ++sequence);
  bot.messages.set(key, message);
}

// ---------------------------------------------------------------- request helpers
function params(req) {
  const p = { ...req.query, ...(req.body || {}) };
  for (const [k, v] of Object.entries(p)) {
    if (JSON_FIELDS.has(k) && typeof v === 'string') {
      try { p[k] = JSON.parse(v); } catch { throw badRequest(`can't parse ${k} JSON object`); }
    }
  }
  return p;
}
const flag = (v) => v === true || v === 'true' || v === '1' || v === 1;

function respond(res, fn) {
  Promise.resolve().then(fn).then(
    (result) => { if (!res.writableEnded) res.json({ ok: true, result }); },
    (err) => {
      const code = err instanceof ApiError ? err.code : 500;
      if (code === 500) console.error(err);
      if (!res.writableEnded) {
        res.status(code).json({ ok: false, error_code: code, description: err.message });
      }
    },
  );
}

/** A Bot API method route: handler(params, botState, server, req, res) -> result. */
const botMethod = (method, handler) => (app, server) => app.all(`/bot:token/${method}`,
  (req, res) => respond(res, () => {
    const p = params(req);
    const bot = botState(req.params.token);
    if (p.chat_id !== undefined && bot.blocked.has(Number(p.chat_id))) throw blocked();
    const failing = p.chat_id !== undefined && bot.failing.get(Number(p.chat_id));
    if (failing && failing.times > 0) {
      failing.times -= 1;
      throw new ApiError(failing.code, `Internal Server Error (injected, ${failing.times} left)`);
    }
    return handler(p, bot, server, req, res);
  }));

/** A client-side (test) route: handler(params, botState, server) -> result. */
const clientRoute = (path, handler) => (app, server) => app.all(path, (req, res) => respond(res,
  () => {
    const p = params(req);
    const token = p.token || p.botToken;
    if (!token) throw badRequest('client routes need a "token" field');
    return handler(p, botState(token), server);
  }));

// ---------------------------------------------------------------- text, entities, markup
/** Visible text + entities of a bot message, with Telegram's checks (HTTP 400). */
function formatText(p) {
  let text = p.text === undefined || p.text === null ? '' : String(p.text);
  let entities = Array.isArray(p.entities) ? p.entities : [];
  const mode = String(p.parse_mode || '').toLowerCase();
  if (mode === 'html') {
    try {
      ({ text, entities } = parseHtml(text));
    } catch (err) {
      if (err instanceof EntityParseError) throw badRequest(`can't parse entities: ${err.message}`);
      throw err;
    }
  } else if (mode) {
    console.error(`emulator: parse_mode ${p.parse_mode} is not checked, text kept as sent`);
  }
  if (!text.trim()) throw badRequest('message text is empty');
  // JS strings are UTF-16, so .length counts code units exactly like Telegram.
  if (text.length > MAX_TEXT_LENGTH) throw badRequest('message is too long');
  return { text, entities };
}

function setText(message, { text, entities }) {
  message.text = text;
  if (entities.length) message.entities = entities;
  else delete message.entities;
}

function setMarkup(message, markup) {
  // Telegram only echoes inline keyboards in Message.reply_markup.
  if (markup && Array.isArray(markup.inline_keyboard)) message.reply_markup = markup;
  else delete message.reply_markup;
}

/** Entities Telegram would detect in a user's text: bot commands and @mentions. */
function detectEntities(text) {
  const found = [];
  for (const m of text.matchAll(/(?<=^|\s)\/[A-Za-z0-9_]{1,32}(?:@[A-Za-z0-9_]{3,32})?/g)) {
    found.push({ type: 'bot_command', offset: m.index, length: m[0].length });
  }
  for (const m of text.matchAll(/(?<![\w@/])@[A-Za-z0-9_]{5,32}\b/g)) {
    found.push({ type: 'mention', offset: m.index, length: m[0].length });
  }
  return found.sort((a, b) => a.offset - b.offset);
}

// ---------------------------------------------------------------- updates
/** Updates are kept in the stock storage; callbacks are formatted by us (chat_instance). */
const stockFormatUpdate = TelegramServer.formatUpdate;
TelegramServer.formatUpdate = (u) => ('callbackQuery' in u
  ? { update_id: u.updateId, callback_query: u.callbackQuery }
  : stockFormatUpdate(u));

async function pushUpdate(server, bot, fields) {
  const updateId = server.updateId;
  await server.addUserUpdate({ time: Date.now(), botToken: bot.token, updateId, isRead: false,
    ...fields });
  server.emit('emulator:update', bot.token);
  const hook = webhooks.get(bot.token);
  if (hook) hook.queue = hook.queue.then(() => deliver(server, bot.token, updateId));
  return updateId;
}

// ---------------------------------------------------------------- webhooks
/**
 * Like Telegram: with a webhook set, each update is POSTed to its URL, one at a time, with
 * the secret in X-Telegram-Bot-Api-Secret-Token; a failed delivery is retried a few times.
 * (The stock webhook support sends no secret and drops updates from the history.)
 */
const webhooks = new Map(); // token -> { url, secret, queue }

async function deliver(server, token, updateId) {
  const hook = webhooks.get(token); // the latest: every replica sets the same URL
  const update = server.storage.userMessages.find((u) => u.botToken === token
    && u.updateId === updateId);
  if (!update || !hook) return;
  const headers = { 'content-type': 'application/json' };
  if (hook.secret) headers['x-telegram-bot-api-secret-token'] = hook.secret;
  for (let attempt = 0; attempt < 5; attempt += 1) {
    try {
      const resp = await fetch(hook.url, { method: 'POST', headers,
        body: JSON.stringify(TelegramServer.formatUpdate(update)) });
      if (resp.ok) { update.isRead = true; return; }
      console.error(`emulator: webhook ${hook.url} answered ${resp.status}`);
    } catch (err) {
      console.error(`emulator: webhook ${hook.url} failed: ${err.message}`);
    }
    await new Promise((r) => { setTimeout(r, 200 * (attempt + 1)); });
  }
}

function setWebhook(p) {
  const url = String(p.url || '');
  if (!url) throw badRequest('bad webhook: URL is empty');
  if (p.secret_token !== undefined && !/^[A-Za-z0-9_-]{1,256}$/.test(String(p.secret_token))) {
    throw badRequest('bad webhook: secret token contains unallowed characters');
  }
  return { url, secret: p.secret_token === undefined ? null : String(p.secret_token) };
}

function confirmUpdates(server, token, offset) {
  const mine = server.storage.userMessages.filter((u) => u.botToken === token);
  let limit = offset;
  if (offset < 0) { // -N: forget all but the last N updates
    const ids = mine.map((u) => u.updateId).sort((a, b) => a - b);
    limit = ids.length + offset > 0 ? ids[ids.length + offset] : 0;
  }
  for (const u of mine) if (u.updateId < limit) u.isRead = true;
}

function pendingUpdates(server, token, limit) {
  return server.storage.userMessages
    .filter((u) => u.botToken === token && !u.isRead)
    .sort((a, b) => a.updateId - b.updateId)
    .slice(0, limit)
    .map((u) => TelegramServer.formatUpdate(u));
}

function getUpdates(p, bot, server, req, res) {
  const offset = Number.parseInt(p.offset, 10) || 0;
  const limit = Math.min(Math.max(Number.parseInt(p.limit, 10) || 100, 1), 100);
  const timeout = Math.min(Math.max(Number(p.timeout) || 0, 0), MAX_POLL_SECONDS);
  confirmUpdates(server, bot.token, offset);
  const ready = pendingUpdates(server, bot.token, limit);
  if (ready.length || timeout === 0) return ready;
  if (bot.poller) {
    bot.poller(new ApiError(409, 'Conflict: terminated by other getUpdates request;'
      + ' make sure that only one bot instance is running'));
  }
  return new Promise((resolve, reject) => {
    const finish = (err) => {
      clearTimeout(timer);
      server.off('emulator:update', onUpdate);
      server.off('emulator:shutdown', onShutdown);
      res.off('close', onShutdown);
      if (bot.poller === finish) bot.poller = null;
      if (err) reject(err);
      else resolve(pendingUpdates(server, bot.token, limit));
    };
    const onUpdate = (token) => { if (token === bot.token) finish(); };
    const onShutdown = () => finish();
    const timer = setTimeout(finish, timeout * 1000);
    server.on('emulator:update', onUpdate);
    server.on('emulator:shutdown', onShutdown);
    res.on('close', onShutdown);
    bot.poller = finish;
  });
}

// ---------------------------------------------------------------- Bot API methods
function sendMessage(p, bot, server) {
  const chat = chatForBot(bot, p.chat_id);
  const body = formatText(p);
  const reply = p.reply_parameters || (p.reply_to_message_id && { message_id: p.reply_to_message_id });
  const message = { message_id: server.messageId++, from: bot.from, chat, date: now() };
  if (reply && reply.message_id) {
    const replied = replySnapshot(bot, reply.chat_id || chat.id, reply.message_id);
    if (replied) message.reply_to_message = replied;
    else if (!flag(reply.allow_sending_without_reply)) throw badRequest('message to be replied not found');
  }
  setText(message, body);
  setMarkup(message, p.reply_markup);
  storeMessage(bot, message);
  bot.shown.push({ chat_id: chat.id, message_id: message.message_id, text: message.text });
  server.storage.botMessages.push({ time: Date.now(), botToken: bot.token, message,
    messageId: message.message_id, updateId: 0, isRead: false });
  return clone(message);
}

function editableMessage(p, bot) {
  const message = bot.messages.get(msgKey(p.chat_id, p.message_id));
  if (!message) throw badRequest('message to edit not found');
  if (!message.from || !message.from.is_bot) throw badRequest("message can't be edited");
  return message;
}

function editMessageText(p, bot) {
  if (p.inline_message_id) return true;
  const message = editableMessage(p, bot);
  const edited = clone(message);
  setText(edited, formatText(p));
  setMarkup(edited, p.reply_markup);
  if (JSON.stringify(edited) === JSON.stringify(message)) throw badRequest(NOT_MODIFIED);
  Object.assign(message, edited, { edit_date: now() });
  if (!edited.entities) delete message.entities;
  if (!edited.reply_markup) delete message.reply_markup;
  bot.shown.push({ chat_id: message.chat.id, message_id: message.message_id, text: message.text });
  return clone(message);
}

function editMessageReplyMarkup(p, bot) {
  if (p.inline_message_id) return true;
  const message = editableMessage(p, bot);
  const edited = clone(message);
  setMarkup(edited, p.reply_markup);
  if (JSON.stringify(edited.reply_markup) === JSON.stringify(message.reply_markup)) {
    throw badRequest(NOT_MODIFIED);
  }
  setMarkup(message, p.reply_markup);
  message.edit_date = now();
  return clone(message);
}

function deleteMessage(p, bot, server) {
  const key = msgKey(p.chat_id, p.message_id);
  if (!bot.messages.delete(key)) throw badRequest('message to delete not found');
  const { botMessages } = server.storage;
  server.storage.botMessages = botMessages.filter((u) => msgKey(u.message.chat.id, u.messageId) !== key);
  return true;
}

function sendChatAction(p, bot) {
  const chat = chatForBot(bot, p.chat_id);
  if (!CHAT_ACTIONS.has(p.action)) throw badRequest('wrong parameter action in request');
  bot.chatActions.push({ chat_id: chat.id, action: p.action, date: now(), seq: ++sequence });
  return true;
}

const commandsKey = (p) => JSON.stringify([p.scope || { type: 'default' }, p.language_code || '']);

function setMyCommands(p, bot) {
  const commands = Array.isArray(p.commands) ? p.commands : [];
  for (const c of commands) {
    if (!/^[a-z0-9_]{1,32}$/.test(String(c.command || ''))) throw badRequest('BOT_COMMAND_INVALID');
    const n = String(c.description || '').length;
    if (n < 1 || n > 256) throw badRequest('BOT_COMMAND_DESCRIPTION_INVALID');
  }
  bot.commands.set(commandsKey(p), commands.map((c) => ({ command: c.command, description: c.description })));
  return true;
}

function answerCallbackQuery(p, bot) {
  bot.callbackAnswers.push({ callback_query_id: String(p.callback_query_id), text: p.text,
    show_alert: flag(p.show_alert), url: p.url });
  return true;
}

function deleteWebhook(p, bot, server) {
  server.deleteWebhook(bot.token);
  webhooks.delete(bot.token);
  if (flag(p.drop_pending_updates)) confirmUpdates(server, bot.token, Number.MAX_SAFE_INTEGER);
  return true;
}

function getFile(p, bot) {
  const fileId = String(p.file_id || '');
  bot.fileRequests.push({ kind: 'getFile', file_id: fileId });
  const stored = bot.files.get(fileId);
  if (!stored) throw badRequest('invalid file_id');
  if (stored.file.file_size > MAX_DOWNLOAD_BYTES) throw badRequest('file is too big');
  return clone(stored.file);
}

function getWebhookInfo(p, bot, server) {
  const hook = webhooks.get(bot.token);
  return { url: hook ? hook.url : '', has_custom_certificate: false,
    pending_update_count: pendingUpdates(server, bot.token, Infinity).length };
}

const botMethods = [
  botMethod('getMe', (p, bot) => bot.user),
  botMethod('getUpdates', getUpdates),
  botMethod('sendMessage', sendMessage),
  botMethod('editMessageText', editMessageText),
  botMethod('editMessageReplyMarkup', editMessageReplyMarkup),
  botMethod('deleteMessage', deleteMessage),
  botMethod('sendChatAction', sendChatAction),
  botMethod('setMyCommands', setMyCommands),
  botMethod('getMyCommands', (p, bot) => bot.commands.get(commandsKey(p)) || []),
  botMethod('deleteMyCommands', (p, bot) => bot.commands.delete(commandsKey(p)) || true),
  botMethod('answerCallbackQuery', answerCallbackQuery),
  botMethod('deleteWebhook', deleteWebhook),
  botMethod('setWebhook', (p, bot) => {
    const { url, secret } = setWebhook(p);
    const old = webhooks.get(bot.token);
    webhooks.set(bot.token, { url, secret, queue: old ? old.queue : Promise.resolve() });
    return true;
  }),
  botMethod('getWebhookInfo', getWebhookInfo),
  botMethod('getFile', getFile),
  botMethod('getChat', (p, bot) => ({ ...chatForBot(bot, p.chat_id), accent_color_id: 0,
    max_reaction_count: 11 })),
  botMethod('close', () => true),
  botMethod('logOut', () => true),
];

// A file's bytes, at the file_path getFile gave (the stock server has no file routes).
const fileDownload = (app) => app.get('/file/bot:token/*', (req, res) => {
  const bot = botState(req.params.token);
  const fileId = bot.filePaths.get(req.params[0]);
  if (fileId === undefined) {
    res.status(404).json({ ok: false, error_code: 404, description: 'Not Found' });
    return;
  }
  bot.fileRequests.push({ kind: 'download', file_id: fileId });
  const { bytes, mimeType } = bot.files.get(fileId);
  res.type(mimeType).send(bytes);
});

// Unknown methods: 404 like Telegram (the stock route answers 500), and say so on stderr.
const notFound = (app) => app.all('/bot:token/:method', (req, res) => {
  console.error(`emulator: unsupported Bot API method ${req.params.method}`);
  res.status(404).json({ ok: false, error_code: 404,
    description: `Not Found: method ${req.params.method} is not emulated` });
});

// ---------------------------------------------------------------- client-side routes
function userChat(p, bot) {
  const user = p.from || { id: Number(p.user_id || 1), is_bot: false,
    first_name: p.first_name || 'Test', ...(p.username ? { username: p.username } : {}),
    language_code: p.language_code || 'en' };
  if (p.chat) return { user, chat: registerChat(bot, p.chat) };
  const type = p.chat_type || 'private';
  const id = Number(p.chat_id === undefined || p.chat_id === null ? user.id : p.chat_id);
  if (!CHAT_TYPES.has(type)) throw badRequest(`chat_type must be one of ${[...CHAT_TYPES]}`);
  if (type === 'private' && id !== user.id) throw badRequest('a private chat id must equal user_id');
  if (type !== 'private' && id >= 0) throw badRequest('group and supergroup chat ids are negative');
  const chat = type === 'private'
    ? { id, type, first_name: user.first_name, ...(user.username ? { username: user.username } : {}) }
    : { id, type, title: p.chat_title || `Test ${type} ${-id}` };
  return { user, chat: registerChat(bot, chat) };
}

/** `text` with the bot's @mention in front when `p.mention` asks for one. */
function withMention(p, text) {
  return flag(p.mention) && !text.includes(`@${BOT_USERNAME}`) ? `@${BOT_USERNAME} ${text}` : text;
}

/** Store a user's message with `content` (text or document) and send it to the bot. */
async function userMessage(p, bot, server, content) {
  const { user, chat } = userChat(p, bot);
  const message = { message_id: server.messageId++, from: user, chat, date: now(), ...content };
  const replyId = p.reply_to_message_id || (p.reply_to_message && p.reply_to_message.message_id);
  if (replyId) {
    message.reply_to_message = replySnapshot(bot, chat.id, replyId);
    if (!message.reply_to_message) throw badRequest(`no message ${replyId} in chat ${chat.id}`);
  }
  storeMessage(bot, message);
  const updateId = await pushUpdate(server, bot, { messageId: message.message_id, message });
  return { message: clone(message), update_id: updateId };
}

async function clientMessage(p, bot, server, command) {
  let text = String(p.text || '');
  if (command && !text.startsWith('/')) text = `/${text}`;
  text = withMention(p, text);
  const entities = Array.isArray(p.entities) ? p.entities : detectEntities(text);
  return userMessage(p, bot, server, { text, ...(entities.length ? { entities } : {}) });
}

let fileCount = 0;

/** A user sends a file: stored so the bot's getFile and download find it. */
async function clientDocument(p, bot, server, bytes) {
  const fileName = String(p.file_name || '');
  if (!fileName) throw badRequest('a document needs a "file_name"');
  const size = p.file_size === undefined ? bytes.length : Number(p.file_size);
  if (!Number.isInteger(size) || size < bytes.length) {
    throw badRequest(`file_size must be a whole number of at least ${bytes.length} (the bytes sent)`);
  }
  fileCount += 1;
  const extension = (fileName.match(/\.[A-Za-z0-9]{1,8}$/) || [''])[0].toLowerCase();
  const file = { file_id: `BQACAgIAAx-doc-${fileCount}`, file_unique_id: `AgAD-${fileCount}`,
    file_size: size, file_path: `documents/file_${fileCount}${extension}` };
  const mimeType = String(p.mime_type || 'application/octet-stream');
  bot.files.set(file.file_id, { file, bytes, mimeType });
  bot.filePaths.set(file.file_path, file.file_id);
  const { file_path: _, ...fields } = file;
  const content = { document: { file_name: fileName, mime_type: mimeType, ...fields } };
  if (p.caption !== undefined || flag(p.mention)) {
    content.caption = withMention(p, String(p.caption || ''));
    const entities = detectEntities(content.caption);
    if (entities.length) content.caption_entities = entities;
  }
  return userMessage(p, bot, server, content);
}

/** Read a request's raw body (the JSON and form parsers leave other types unread). */
function rawBody(req, limit) {
  return new Promise((resolve, reject) => {
    const parts = [];
    let length = 0;
    req.on('data', (part) => {
      length += part.length;
      if (length > limit) reject(new ApiError(413, 'Request Entity Too Large'));
      else parts.push(part);
    });
    req.on('end', () => resolve(Buffer.concat(parts)));
    req.on('error', reject);
  });
}

const documentRoute = (app, server) => app.post('/sendDocument', (req, res) => respond(res,
  async () => {
    if (req.is('json') || req.is('urlencoded')) {
      throw badRequest('send the file as the body (application/octet-stream), the fields in the query');
    }
    const p = params({ query: req.query, body: {} });
    if (!p.token) throw badRequest('client routes need a "token" field');
    return clientDocument(p, botState(p.token), server, await rawBody(req, MAX_UPLOAD_BYTES));
  }));

async function clientCallback(p, bot, server) {
  const chatId = p.chat_id ?? (p.message && p.message.chat.id);
  const messageId = p.message_id ?? (p.message && p.message.message_id);
  const message = bot.messages.get(msgKey(chatId, messageId));
  if (!message) throw badRequest(`no message ${messageId} in chat ${chatId}`);
  const rows = (message.reply_markup && message.reply_markup.inline_keyboard) || [];
  if (!rows.flat().some((b) => b.callback_data === p.data)) {
    throw badRequest(`message ${messageId} has no button with callback_data ${JSON.stringify(p.data)}`);
  }
  const user = p.from || { id: Number(p.user_id || chatId), is_bot: false,
    first_name: p.first_name || 'Test', language_code: 'en' };
  const callbackQuery = { id: String(server.callbackId++), from: user, message: clone(message),
    chat_instance: String(Math.abs(message.chat.id) * 7 + 424242), data: p.data };
  const updateId = await pushUpdate(server, bot, { callbackQuery });
  return { callback_query: clone(callbackQuery), update_id: updateId };
}

function history(p, bot) {
  const wanted = p.chat_id === undefined ? null : Number(p.chat_id);
  const inChat = (id) => wanted === null || id === wanted;
  return {
    bot: bot.user,
    chats: [...bot.chats.values()].filter((c) => inChat(c.id)),
    messages: [...bot.messages.values()].filter((m) => inChat(m.chat.id))
      .sort((a, b) => a.message_id - b.message_id)
      .map((m) => ({ ...m, seq: sentAt.get(`${bot.token}/${msgKey(m.chat.id, m.message_id)}`) })),
    chat_actions: bot.chatActions.filter((a) => inChat(a.chat_id)),
    commands: [...bot.commands].map(([key, commands]) => {
      const [scope, language_code] = JSON.parse(key);
      return { scope, language_code, commands };
    }),
    callback_answers: bot.callbackAnswers,
    file_requests: bot.fileRequests,
    shown: bot.shown.filter((s) => inChat(s.chat_id)),
  };
}

function block(p, bot) {
  const id = Number(p.chat_id);
  if (!Number.isInteger(id) || id === 0) throw badRequest('block needs a chat_id');
  bot.blocked.add(id);
  return true;
}

function fail(p, bot) {
  const id = Number(p.chat_id);
  const times = Number(p.times);
  if (!Number.isInteger(id) || id === 0 || !Number.isInteger(times)) {
    throw badRequest('fail needs a chat_id and times');
  }
  bot.failing.set(id, { times, code: Number(p.code || 500) });
  return true;
}

function reset(p, bot, server) {
  bots.delete(bot.token);
  const other = (u) => u.botToken !== bot.token;
  server.storage.userMessages = server.storage.userMessages.filter(other);
  server.storage.botMessages = server.storage.botMessages.filter(other);
  return true;
}

const clientRoutes = [
  clientRoute('/sendMessage', (p, bot, server) => clientMessage(p, bot, server, false)),
  clientRoute('/sendCommand', (p, bot, server) => clientMessage(p, bot, server, true)),
  clientRoute('/sendCallback', clientCallback),
  documentRoute,
  clientRoute('/getUpdates', (p, bot, server) => { // stock semantics: unread bot messages
    const unread = server.storage.botMessages.filter((u) => u.botToken === bot.token
      && String(u.message.chat.id) === String(p.chatId ?? p.chat_id) && !u.isRead);
    unread.forEach((u) => { u.isRead = true; });
    return unread;
  }),
  clientRoute('/emulator/history', history),
  clientRoute('/emulator/block', block),
  clientRoute('/emulator/fail', fail),
  clientRoute('/emulator/reset', reset),
  (app) => app.get('/emulator/health', (req, res) => res.json({ ok: true, result: 'ready' })),
];

// ---------------------------------------------------------------- main
function parsePort(argv) {
  const i = argv.indexOf('--port');
  const port = i >= 0 ? Number(argv[i + 1]) : NaN;
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    console.error('usage: node launch.js --port N [--verbose]   (N in 1..65535; 0 is not allowed)');
    process.exit(2);
  }
  return port;
}

async function main() {
  const port = parsePort(process.argv.slice(2));
  routes.splice(routes.indexOf(unknownMethod), 1, notFound); // before the stock routes' own catch-all
  routes.unshift(...clientRoutes, ...botMethods, fileDownload); // ours first: Express takes the first match
  if (process.argv.includes('--verbose')) {
    routes.unshift((app) => app.use((req, _res, next) => {
      console.error(`emulator: ${req.method} ${req.path}`);
      next();
    }));
  }
  const server = new TelegramServer({ port, host: HOST, storeTimeout: 86400 });
  server.setMaxListeners(0);
  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    server.emit('emulator:shutdown');
    setTimeout(() => process.exit(0), 2000).unref();
    await server.stop();
    process.exit(0);
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  try {
    await server.start();
  } catch (err) {
    console.error(`emulator: cannot listen on ${HOST}:${port}: ${err.message}`);
    process.exit(1);
  }
  console.log(`EMULATOR READY http://${HOST}:${port}`);
}

main();

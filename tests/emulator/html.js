'use strict';
// Strict parser for Telegram's HTML parse_mode: returns the visible text and its
// MessageEntity list (offsets/lengths in UTF-16 code units, like Telegram), or
// throws EntityParseError with a Telegram-style reason.
// Deliberately stricter than Telegram: a bare "&" or ">" is rejected too, so that
// missing html.escape() calls are caught in tests.

const TAG_TYPES = {
  b: 'bold', strong: 'bold', i: 'italic', em: 'italic', u: 'underline', ins: 'underline',
  s: 'strikethrough', strike: 'strikethrough', del: 'strikethrough',
  span: 'spoiler', 'tg-spoiler': 'spoiler', a: 'text_link', code: 'code', pre: 'pre',
  blockquote: 'blockquote', 'tg-emoji': 'custom_emoji',
};
const NAMED_ENTITIES = { lt: '<', gt: '>', amp: '&', quot: '"' };
const TAG_RE = /<(\/?)([^\s>/]*)((?:[^>"']|"[^"]*"|'[^']*')*)>/y;
const ATTR_RE = /([^\s=]+)\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'>]+))/g;
const ENTITY_RE = /&(?:#([0-9]{1,7})|#[xX]([0-9a-fA-F]{1,6})|([a-zA-Z][a-zA-Z0-9]*));/y;

class EntityParseError extends Error {}

function byteOffset(src, i) {
  return Buffer.byteLength(src.slice(0, i), 'utf8');
}

function decodeEntity(src, i) {
  ENTITY_RE.lastIndex = i;
  const m = ENTITY_RE.exec(src);
  const at = `at byte offset ${byteOffset(src, i)}`;
  if (!m) throw new EntityParseError(`Unescaped "&" ${at}: use &amp;`);
  let ch;
  if (m[3] !== undefined) {
    ch = NAMED_ENTITIES[m[3]];
    if (ch === undefined) throw new EntityParseError(`Unsupported HTML entity "${m[0]}" ${at}`);
  } else {
    const cp = m[1] !== undefined ? parseInt(m[1], 10) : parseInt(m[2], 16);
    if (cp === 0 || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) {
      throw new EntityParseError(`Invalid character reference "${m[0]}" ${at}`);
    }
    ch = String.fromCodePoint(cp);
  }
  return [ch, i + m[0].length];
}

function decodeText(s) {
  let out = '';
  for (let i = 0; i < s.length;) {
    if (s[i] === '&') {
      const [ch, next] = decodeEntity(s, i);
      out += ch;
      i = next;
    } else {
      out += s[i];
      i += 1;
    }
  }
  return out;
}

function parseAttrs(raw) {
  const attrs = {};
  for (const m of raw.matchAll(ATTR_RE)) {
    attrs[m[1].toLowerCase()] = decodeText(m[2] ?? m[3] ?? m[4]);
  }
  return attrs;
}

function openTag(name, attrs, at) {
  if (!(name in TAG_TYPES)) throw new EntityParseError(`Unsupported start tag "${name}" ${at}`);
  if (name === 'span' && attrs.class !== 'tg-spoiler') {
    throw new EntityParseError(`Tag "span" must have class "tg-spoiler" ${at}`);
  }
  if (name === 'tg-emoji' && !attrs['emoji-id']) {
    throw new EntityParseError(`Tag "tg-emoji" must have attribute "emoji-id" ${at}`);
  }
}

function closeTag(top, stack, text, entities) {
  const offset = top.offset;
  const length = text.length - offset;
  const parent = stack[stack.length - 1];
  const lang = /^language-(.+)$/.exec(top.attrs.class || '');
  if (top.name === 'code' && parent && parent.name === 'pre') {
    if (lang) parent.language = lang[1]; // <pre><code class="language-x"> is one pre entity
    return;
  }
  if (length === 0) return;
  const entity = { type: TAG_TYPES[top.name], offset, length };
  if (top.name === 'a') {
    if (!top.attrs.href) return;
    entity.url = top.attrs.href;
  } else if (top.name === 'pre' && top.language) {
    entity.language = top.language;
  } else if (top.name === 'blockquote' && 'expandable' in top.attrs) {
    entity.type = 'expandable_blockquote';
  } else if (top.name === 'tg-emoji') {
    entity.custom_emoji_id = top.attrs['emoji-id'];
  }
  entities.push(entity);
}

/** Parse Telegram HTML into {text, entities}; throws EntityParseError. */
function parseHtml(src) {
  let text = '';
  const stack = [];
  const entities = [];
  let i = 0;
  while (i < src.length) {
    const c = src[i];
    const at = `at byte offset ${byteOffset(src, i)}`;
    if (c === '&') {
      const [ch, next] = decodeEntity(src, i);
      text += ch;
      i = next;
    } else if (c === '>') {
      throw new EntityParseError(`Unescaped ">" ${at}: use &gt;`);
    } else if (c !== '<') {
      text += c;
      i += 1;
    } else {
      TAG_RE.lastIndex = i;
      const m = TAG_RE.exec(src);
      if (!m) throw new EntityParseError(`Unclosed start tag ${at}`);
      const [whole, slash, rawName, rawAttrs] = m;
      const name = rawName.toLowerCase();
      if (slash) {
        const top = stack.pop();
        if (!top) throw new EntityParseError(`Unexpected end tag ${at}`);
        if (top.name !== name || rawAttrs.trim()) {
          throw new EntityParseError(
            `Unmatched end tag ${at}, expected "</${top.name}>", found "</${name}>"`,
          );
        }
        closeTag(top, stack, text, entities);
      } else {
        const attrs = parseAttrs(rawAttrs);
        openTag(name, attrs, at);
        stack.push({ name, attrs, offset: text.length });
      }
      i += whole.length;
    }
  }
  if (stack.length) {
    const top = stack[stack.length - 1];
    throw new EntityParseError(`Can't find end tag corresponding to start tag "${top.name}"`);
  }
  entities.sort((a, b) => a.offset - b.offset || b.length - a.length);
  return { text, entities };
}

module.exports = { parseHtml, EntityParseError };

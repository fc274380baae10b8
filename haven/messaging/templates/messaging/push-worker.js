{% load i18n %}// Haven's service worker: shows that a secure message is waiting (MSG-4). It caches nothing and
// handles no page requests. The payload is Haven's fixed wording and a link, never the message.
"use strict";

var FALLBACK = {
  title: "{{ site_name|escapejs }}",
  body: "{% filter escapejs %}{% translate 'A secure message is waiting for you. Sign in to read it.' %}{% endfilter %}",
  url: "{% url 'messaging:inbox' %}"
};

self.addEventListener("push", function (event) {
  var note = Object.assign({}, FALLBACK);
  try {
    if (event.data) { Object.assign(note, event.data.json()); }
  } catch (error) { /* an unreadable payload still tells the person a message waits */ }
  event.waitUntil(self.registration.showNotification(note.title, {
    body: note.body,
    lang: note.lang || "",
    tag: "haven-secure-message",
    data: { url: note.url }
  }));
});

self.addEventListener("notificationclick", function (event) {
  event.notification.close();
  var target = new URL((event.notification.data && event.notification.data.url) || FALLBACK.url, self.location.origin);
  // Only Haven's own pages: a link elsewhere would be a way to send people to a look-alike site.
  if (target.origin !== self.location.origin) { target = new URL(FALLBACK.url, self.location.origin); }
  event.waitUntil(self.clients.openWindow(target.href));
});

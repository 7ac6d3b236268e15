// Starts GraphiQL on the embedded page. It is a file and not an inline script so that the page's
// Content-Security-Policy can allow scripts from 'self' only.
(function () {
  'use strict';

  var root = document.getElementById('graphiql');
  var endpoint = root.dataset.endpoint;

  if (!window.React || !window.ReactDOM || !window.GraphiQL) {
    root.textContent = 'GraphiQL could not start: its scripts did not load (see the browser console).';
    root.dataset.state = 'failed';
    return;
  }

  // A placeholder the user replaces with their API key; it is never stored (shouldPersistHeaders).
  var defaultHeaders = JSON.stringify(
    { Authorization: 'Basic <base64 of clientId:clientSecret>' }, null, 2);

  var defaultQuery = [
    '# Who am I? Put your API key in the Headers tab below,',
    '# then run this with \u25B6 or Ctrl-Enter.',
    'query Viewer {',
    '  viewer {',
    '    __typename',
    '    ... on Application {',
    '      id',
    '      name',
    '    }',
    '  }',
    '}',
    ''
  ].join('\n');

  // fetcher POSTs the operation as JSON with the headers of the headers editor. Cookies are not
  // sent (credentials: 'omit'): the API authenticates with the Authorization header alone, and
  // the browser must not add credentials it remembered.
  async function fetcher(params, opts) {
    var headers = { 'Content-Type': 'application/json', Accept: 'application/json' };
    Object.assign(headers, (opts && opts.headers) || {});
    var res = await fetch(endpoint, {
      method: 'POST',
      headers: headers,
      body: JSON.stringify(params),
      credentials: 'omit'
    });
    var text = await res.text();
    try {
      return JSON.parse(text);
    } catch (e) {
      // Not GraphQL (a proxy's error page, a plain 401): show what came back.
      return { errors: [{ message: 'HTTP ' + res.status + ' ' + res.statusText + ': ' + text }] };
    }
  }

  ReactDOM.createRoot(root).render(React.createElement(GraphiQL, {
    fetcher: fetcher,
    defaultQuery: defaultQuery,
    defaultHeaders: defaultHeaders,
    shouldPersistHeaders: false,
    defaultEditorToolsVisibility: 'headers'
  }));
})();

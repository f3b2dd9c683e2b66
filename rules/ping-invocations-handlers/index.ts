import { APP_FILE_GLOBS } from '../../src/analysis/app-files.js';
import { findRoutes, type RouteEvidence } from '../../src/analysis/routes.js';
import { defineRule, docsUrl } from '../../src/engine/types.js';

const ID = 'ping-invocations-handlers';

const accepts = (e: RouteEvidence, method: 'GET' | 'POST'): boolean => e.methods === 'ANY' || e.methods.includes(method);
const methodList = (e: RouteEvidence): string => (e.methods === 'ANY' ? 'any method' : e.methods.join(', '));

export default defineRule({
  meta: {
    id: ID,
    target: 'container',
    defaultSeverity: 'error',
    description: 'The container answers GET /ping (health) and POST /invocations (inference).',
    docsUrl: docsUrl(ID),
    files: APP_FILE_GLOBS,
  },
  check({ model, report }) {
    const { evidence, providedBy, codeFiles, foreign } = findRoutes(model);
    if (providedBy) return;
    const ping = evidence.filter((e) => e.route === '/ping');
    const inv = evidence.filter((e) => e.route === '/invocations');

    if (ping.length && inv.length) {
      // One handler accepting the right method is enough (e.g. a GET route and a catch-all).
      if (!ping.some((e) => accepts(e, 'GET'))) {
        report({
          message: `/ping is routed only for ${methodList(ping[0])} (${ping[0].how}); SageMaker's health check sends GET /ping, which gets 405 and the endpoint never becomes InService`,
          location: ping[0].location,
          help: 'accept GET on /ping, e.g. Flask @app.route("/ping", methods=["GET"]), FastAPI @app.get("/ping"), Express app.get("/ping", ...)',
        });
      }
      if (!inv.some((e) => accepts(e, 'POST'))) {
        report({
          message: `/invocations is routed only for ${methodList(inv[0])} (${inv[0].how}); SageMaker sends every inference request as POST /invocations, which gets 405`,
          location: inv[0].location,
          help: 'accept POST on /invocations, e.g. Flask @app.route("/invocations", methods=["POST"]), FastAPI @app.post("/invocations"), Express app.post("/invocations", ...)',
        });
      }
      return;
    }
    if (ping.length || inv.length) {
      const [have, missing] = ping.length ? [ping[0], '/invocations'] : [inv[0], '/ping'];
      report({
        severity: 'warning',
        message: `found a handler for ${have.route} (${have.how}) but none for ${missing}; SageMaker ${missing === '/ping' ? 'health-checks GET /ping and the container fails with "did not pass the ping health check"' : 'sends every request to POST /invocations'}`,
        location: have.location,
        help: `add a ${missing === '/ping' ? 'GET /ping route that returns 200' : 'POST /invocations route'} next to it`,
      });
      return;
    }
    if (foreign) {
      report({
        message: `the container starts ${foreign.name}; SageMaker health-checks GET /ping and sends requests to POST /invocations`,
        location: foreign.location,
        help: foreign.help,
      });
      return;
    }
    if (codeFiles === 0) {
      report({
        severity: 'info',
        message: 'no server code was found in what this image adds to look for GET /ping and POST /invocations (it may come from the base image or an installed package); run `smcl boot` to check',
        location: model.subjectLocation,
      });
      return;
    }
    report({
      message: `no handler for GET /ping or POST /invocations was found in ${codeFiles} server file(s); SageMaker health-checks GET /ping and sends requests to POST /invocations`,
      location: model.subjectLocation,
      help: 'add both routes, e.g. Flask: @app.route("/ping") and @app.route("/invocations", methods=["POST"]); FastAPI: @app.get("/ping") and @app.post("/invocations"); or install a toolkit that serves them (pip install sagemaker-inference)',
    });
  },
});

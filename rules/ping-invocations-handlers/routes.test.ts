import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { blankComments, enclosingCall, findRoutes, type RouteEvidence } from '../../src/analysis/routes.js';
import { loadDockerfile } from '../../src/sources/dockerfile/index.js';

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

/** Writes a build context (Dockerfile + files) to a temp dir and returns the route analysis. */
function routesOf(files: Record<string, string>) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'smcl-routes-'));
  dirs.push(dir);
  for (const [p, text] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, p)), { recursive: true });
    fs.writeFileSync(path.join(dir, p), text);
  }
  return findRoutes(loadDockerfile({ file: path.join(dir, 'Dockerfile') }));
}

const short = (e: RouteEvidence) => `${e.route} ${e.methods === 'ANY' ? 'ANY' : e.methods.join('|')} @${e.location.line}`;
const one = (name: string, text: string) => routesOf({ Dockerfile: `FROM python:3.12\nCOPY ${name} /app/${name}\n`, [name]: text }).evidence.map(short);

describe('routes in Python', () => {
  it('reads Flask methods lists, multi-line decorators and the GET default', () => {
    expect(one('a.py', '@app.route("/ping", methods=["GET", "POST"])\ndef p(): ...\n@bp.route(\n    "/invocations"\n)\ndef i(): ...\n')).toEqual(['/ping GET|POST @1', '/invocations GET @4']);
  });
  it('ignores commented-out routes and HTTP client calls', () => {
    expect(one('a.py', '# @app.post("/invocations")\nrequests.get("/ping")\nclient.post("/invocations")\nx = 1  # self.path == "/ping"\n')).toEqual([]);
  });
  it('takes the method of an http.server handler from the enclosing do_GET/do_POST', () => {
    const code = 'class H(BaseHTTPRequestHandler):\n    def do_POST(self):\n        if self.path == "/invocations":\n            pass\n    def do_GET(self):\n        if self.path == "/ping":\n            pass\n';
    expect(one('a.py', code)).toEqual(['/ping GET @6', '/invocations POST @3']);
  });
  it('Starlette Route: function endpoint is GET-only, endpoint class answers what it defines, methods= wins', () => {
    expect(one('a.py', 'Route("/ping", endpoint=ping)\nRoute("/invocations", Invoke)\n')).toEqual(['/ping GET @1', '/invocations ANY @2']);
    expect(one('a.py', 'Route("/invocations", invoke, methods=["POST"])\n')).toEqual(['/invocations POST @1']);
  });
  it('aiohttp add_route with a method word, and Tornado handler tuples', () => {
    expect(one('a.py', 'app.router.add_route("*", "/ping", h)\napp.router.add_route("POST", "/invocations", h)\n')).toEqual(['/ping ANY @1', '/invocations POST @2']);
    expect(one('a.py', 'app = tornado.web.Application([(r"/ping", Ping), (r"/invocations", Invoke)])\n')).toEqual(['/ping ANY @1', '/invocations ANY @1']);
  });
});

describe('routes in JavaScript', () => {
  it('follows Express route chains', () => {
    expect(one('s.js', "app.route('/invocations')\n  .get((q, r) => r.send(f(1)))\n  .post(handler);\n")).toEqual(['/invocations GET|POST @1']);
  });
  it('reads Fastify route objects and plain Node comparisons', () => {
    expect(one('s.js', "fastify.route({ method: ['GET', 'HEAD'], url: '/ping', handler });\n")).toEqual(['/ping GET|HEAD @1']);
    expect(one('s.js', "if (req.method === 'POST' && req.url === '/invocations') run();\nif (req.url === '/ping') ok();\n")).toEqual(['/ping ANY @2', '/invocations POST @1']);
  });
  it('does not let a comment join the next call', () => {
    expect(one('s.js', '// handled here.\napp.post("/invocations", h);\n/* app.get("/ping") */\n')).toEqual(['/invocations POST @2']);
  });
});

describe('routes in Java, Scala and Kotlin', () => {
  it('reads Spring mappings, RequestMapping methods and arrays of paths', () => {
    const code = '@RestController\npublic class C {\n  @RequestMapping(value = "/ping", method = RequestMethod.GET)\n  public String p() { return ""; }\n  @RequestMapping(path = {"/invocations"},\n      method = {RequestMethod.POST})\n  public String i() { return ""; }\n  @GetMapping("/invocations")\n  public String g() { return ""; }\n}\n';
    expect(one('C.java', code)).toEqual(['/ping GET @3', '/invocations POST @5', '/invocations GET @8']);
  });
  it('drops method mappings under a class prefix, and reads a class mapped to the route itself', () => {
    expect(one('C.java', '@RestController\n@RequestMapping("/api")\npublic class C {\n  @GetMapping("/ping")\n  public String p() { return ""; }\n}\n')).toEqual([]);
    expect(one('C.java', '@RestController\n@RequestMapping("/invocations")\npublic class C {\n  @PostMapping\n  public String i() { return ""; }\n}\n')).toEqual(['/invocations POST @2']);
  });
  it('takes JAX-RS methods from the @GET/@POST next to @Path (with or without a leading slash)', () => {
    const code = '@Path("/")\npublic class R {\n  @GET\n  @Path("ping")\n  public Response p() { return null; }\n  @POST @Path("/invocations") @Consumes("application/json")\n  public Response i(String b) { return null; }\n}\n';
    expect(one('R.java', code)).toEqual(['/ping GET @4', '/invocations POST @6']);
  });
  it('reads Javalin/Spark/Vert.x/Ktor verbs and HttpServer contexts, not client calls or map lookups', () => {
    expect(one('A.java', 'app.get("/ping", ctx -> ctx.result(""));\nrouter.post("/invocations").handler(this::inv);\nString v = cache.get("/ping");\n')).toEqual(['/ping GET @1', '/invocations POST @2']);
    expect(one('A.java', 'import static spark.Spark.*;\nclass M {{ get("/ping", (q, r) -> ""); }}\n')).toEqual(['/ping GET @2']);
    expect(one('A.kt', 'import io.ktor.server.routing.*\nrouting {\n  post("/invocations") { call.respondText("") }\n}\n')).toEqual(['/invocations POST @3']);
    expect(one('A.java', 'server.createContext("/ping", new Ping());\n')).toEqual(['/ping ANY @1']);
    expect(one('A.java', 'client.get("/ping", h);\nmockMvc.perform(get("/ping"));\nrestTemplate.postForObject("/invocations", b, String.class);\n// app.get("/ping", h);\n')).toEqual([]);
  });
  it('reads servlet path comparisons with the method of the enclosing doGet/doPost', () => {
    const code = 'public class S extends HttpServlet {\n  protected void doGet(HttpServletRequest q, HttpServletResponse r) {\n    if ("/ping".equals(q.getPathInfo())) r.setStatus(200);\n  }\n  protected void doPost(HttpServletRequest q, HttpServletResponse r) {\n    if (q.getPathInfo().equals("/invocations")) r.setStatus(200);\n  }\n}\n';
    expect(one('S.java', code)).toEqual(['/ping GET @3', '/invocations POST @6']);
  });
  it('counts a JVM file as server code only when it registers routes', () => {
    const jvm = (text: string) => routesOf({ Dockerfile: 'FROM eclipse-temurin:21\nCOPY A.java /app/A.java\n', 'A.java': text }).codeFiles;
    expect(jvm('public class Main { public static void main(String[] a) { new Server(8080).start(); } }\n')).toBe(0);
    expect(jvm('@GetMapping("/health")\npublic String h() { return ""; }\n')).toBe(1);
    expect(jvm('// @GetMapping("/health")\n')).toBe(0);
  });
});

describe('routes in Go', () => {
  it('reads net/http handlers and Go 1.22 method patterns', () => {
    expect(one('main.go', 'http.HandleFunc("/ping", ping)\nmux.HandleFunc("POST /invocations", inv)\nmux.HandleFunc("GET /invocations", x)\n')).toEqual(['/ping ANY @1', '/invocations POST @2', '/invocations GET @3']);
  });
  it('reads gin/echo/chi verbs and gorilla .Methods(), skipping groups under a prefix', () => {
    expect(one('main.go', 'r.GET("/ping", ping)\nv1 := r.Group("/v1")\nv1.POST("/invocations", inv)\ne.POST("/invocations", inv)\n')).toEqual(['/ping GET @1', '/invocations POST @4']);
    expect(one('main.go', 'r.Get("/ping", ping)\nr.Route("/api", func(r chi.Router) {\n\tr.Post("/invocations", x)\n})\n')).toEqual(['/ping GET @1']);
    expect(one('main.go', 'r.HandleFunc("/invocations", inv).Methods(http.MethodPost)\n')).toEqual(['/invocations POST @1']);
  });
  it('reads path comparisons and ignores client calls', () => {
    expect(one('main.go', 'switch r.URL.Path {\ncase "/ping":\n}\nif r.Method == "POST" && r.URL.Path == "/invocations" {\n}\n')).toEqual(['/ping ANY @2', '/invocations POST @4']);
    expect(one('main.go', 'resp, _ := http.Get(base + "/ping")\nclient.Post(base+"/invocations", "application/json", b)\n')).toEqual([]);
  });
});

describe('routes in R', () => {
  it('reads plumber annotations (#* and #\') at the start of a line; @use answers any method', () => {
    expect(one('plumber.R', "#* @get /ping\nfunction() \"\"\n#' @post /invocations\nfunction(req) req$postBody\n#* @use /ping\n  #* @get /invocations\n")).toEqual(['/ping GET @1', '/invocations POST @3', '/ping ANY @5']);
  });
  it('reads pr_get/pr_post/pr_handle, $handle and RestRserve add_*', () => {
    const code = 'pr() %>%\n  pr_get("/ping", function() "") %>%\n  pr_post("/invocations", f)\npr_handle(p, c("GET", "HEAD"), "/ping", f)\np$handle("POST", "/invocations", f)\napp$add_get(path = "/ping", FUN = f)\n# pr_post(p, "/invocations", f)\n';
    expect(one('serve.R', code)).toEqual(['/ping GET @2', '/invocations POST @3', '/ping GET|HEAD @4', '/invocations POST @5', '/ping GET @6']);
  });
});

describe('routes in nginx and shell', () => {
  it('tests regex locations against the routes and skips catch-alls', () => {
    const nginx = 'server {\n  location / { proxy_pass http://app; }\n  location ~* ^/(PING|invocations)$ { proxy_pass http://app; }\n}\n';
    expect(one('nginx.conf', nginx)).toEqual(['/ping ANY @3', '/invocations ANY @3']);
  });
  it('reads case arms of shell servers', () => {
    expect(one('serve.sh', '#!/bin/sh\ncase "$path" in\n  /ping) ok ;;\n  "POST /invocations") run ;;\nesac\n')).toEqual(['/ping ANY @3', '/invocations POST @4']);
  });
});

describe('stacks', () => {
  it('reports tritonserver without SageMaker mode as foreign, with it as providing the routes', () => {
    const off = routesOf({ Dockerfile: 'FROM nvcr.io/nvidia/tritonserver:24.05-py3\nENTRYPOINT ["tritonserver", "--model-repository=/m"]\n' });
    expect(off.foreign?.name).toContain('--allow-sagemaker=true');
    const on = routesOf({ Dockerfile: 'FROM nvcr.io/nvidia/tritonserver:24.05-py3\nENTRYPOINT ["tritonserver", "--allow-sagemaker=true"]\n' });
    expect(on.providedBy).toContain('Triton');
  });
});

describe('helpers', () => {
  it('blankComments keeps strings that look like comments and keeps offsets', () => {
    const js = 'const u = "http://x"; // c\nconst h = "#fff";\n';
    const out = blankComments(js, 'js');
    expect(out.length).toBe(js.length);
    expect(out).toContain('"http://x"');
    expect(out).not.toContain('// c');
    expect(blankComments('x = "#no"  # yes\n', 'python')).toBe('x = "#no"       \n');
  });
  it('enclosingCall finds the callee and its arguments', () => {
    const text = 'app.add_url_rule("/ping", view_func=f(1), methods=["GET"])';
    const c = enclosingCall(text, text.indexOf('"/ping"'));
    expect(c?.callee).toBe('app.add_url_rule');
    expect(c?.args).toContain('methods=["GET"]');
  });
});

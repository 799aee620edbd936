// The dashboard's files are bundled as text (see the dashboard rule in
// wrangler.toml): the Worker serves them and never runs them.
declare module "*.html" {
  const text: string;
  export default text;
}
declare module "*.css" {
  const text: string;
  export default text;
}
// Browser modules. Each is named, rather than a "*.js" pattern, so that no other
// unresolved .js import in the Worker could be mistaken for text.
declare module "*/static/agents-view.js" {
  const text: string;
  export default text;
}
declare module "*/static/api-docs.js" {
  const text: string;
  export default text;
}
declare module "*/static/api.js" {
  const text: string;
  export default text;
}
declare module "*/static/app.js" {
  const text: string;
  export default text;
}
declare module "*/static/diff.js" {
  const text: string;
  export default text;
}
declare module "*/static/dom.js" {
  const text: string;
  export default text;
}
declare module "*/static/events.js" {
  const text: string;
  export default text;
}
declare module "*/static/key.js" {
  const text: string;
  export default text;
}
declare module "*/static/run-view.js" {
  const text: string;
  export default text;
}
declare module "*/static/runs-view.js" {
  const text: string;
  export default text;
}
declare module "*/static/timeline.js" {
  const text: string;
  export default text;
}
declare module "*/static/metrics-view.js" {
  const text: string;
  export default text;
}
declare module "*/static/execution-card.js" {
  const text: string;
  export default text;
}
declare module "*/static/images.js" {
  const text: string;
  export default text;
}
declare module "*/static/live-output.js" {
  const text: string;
  export default text;
}
declare module "*/static/approval-card.js" {
  const text: string;
  export default text;
}
declare module "*/static/team-cards.js" {
  const text: string;
  export default text;
}
declare module "*/static/message-box.js" {
  const text: string;
  export default text;
}

/** A bad config value, link, preset or file; its message names the field or the problem. */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

// The API key lives in sessionStorage: it survives a reload of this tab, is
// not shared with other tabs, and is gone when the tab closes.

const STORAGE_KEY = "edgeswarm.apiKey";

export function currentKey() {
  try {
    return sessionStorage.getItem(STORAGE_KEY);
  } catch {
    return null;
  }
}

export function saveKey(key) {
  sessionStorage.setItem(STORAGE_KEY, key);
}

export function forgetKey() {
  sessionStorage.removeItem(STORAGE_KEY);
}

// Lists kept by key, appended in place: the indexes of the access model are built with these,
// in one pass (a copy per append would make building them quadratic).

/** Appends `value` to the list kept under `key`. */
export function addTo<K, V>(map: Map<K, V[]>, key: K, value: V): void {
    const list = map.get(key);
    if (list === undefined) map.set(key, [value]);
    else list.push(value);
}

/** The items grouped by a key, each group in the items' order. */
export function groupBy<K, V>(items: Iterable<V>, key: (item: V) => K): Map<K, V[]> {
    const groups = new Map<K, V[]>();
    for (const item of items) addTo(groups, key(item), item);
    return groups;
}

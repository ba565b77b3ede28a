//! Edge handles. Langflow writes each edge's endpoints twice: as objects under `data` (what its
//! backend reads) and as top-level strings in which every `"` is replaced by `œ` (what React Flow
//! reads). Flows edited by hand or by older tools sometimes carry only the strings, so both are
//! accepted, in either of the spacing styles Langflow has used.

use serde_json::Value as Json;

/// Where an edge leaves its source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceHandle {
    pub node_id: String,
    pub output: String,
}

/// Where an edge enters its target: a template field, or (Loop feedback edges) one of the
/// target's own outputs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TargetHandle {
    Field { node_id: String, field: String },
    LoopBack { node_id: String, output: String },
}

/// Decodes an œ-encoded handle string into its JSON object.
#[must_use]
pub fn decode_oe(text: &str) -> Option<Json> {
    let json = text.replace('œ', "\"");
    serde_json::from_str::<Json>(&json).ok().filter(Json::is_object)
}

fn handle_object(edge: &Json, key: &str) -> Option<Json> {
    if let Some(obj) = edge.get("data").and_then(|d| d.get(key)).filter(|v| v.is_object()) {
        return Some(obj.clone());
    }
    match edge.get(key)? {
        Json::String(s) => decode_oe(s),
        obj @ Json::Object(_) => Some(obj.clone()),
        _ => None,
    }
}

fn str_field<'a>(obj: &'a Json, key: &str) -> Option<&'a str> {
    obj.get(key).and_then(Json::as_str)
}

/// The source handle of an edge, falling back to the edge's `source` for the node id.
#[must_use]
pub fn source_handle(edge: &Json) -> Option<SourceHandle> {
    let obj = handle_object(edge, "sourceHandle")?;
    let node_id = str_field(&obj, "id").or_else(|| str_field(edge, "source"))?.to_owned();
    let output = str_field(&obj, "name")?.to_owned();
    Some(SourceHandle { node_id, output })
}

/// The target handle of an edge; a handle shaped like a source handle (`name`, no `fieldName`)
/// is a Loop feedback edge.
#[must_use]
pub fn target_handle(edge: &Json) -> Option<TargetHandle> {
    let obj = handle_object(edge, "targetHandle")?;
    let node_id = str_field(&obj, "id").or_else(|| str_field(edge, "target"))?.to_owned();
    if let Some(field) = str_field(&obj, "fieldName") {
        return Some(TargetHandle::Field { node_id, field: field.to_owned() });
    }
    let output = str_field(&obj, "name")?.to_owned();
    Some(TargetHandle::LoopBack { node_id, output })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn reads_data_handles_first() {
        let e = json!({"source": "A-1", "target": "B-2", "data": {
            "sourceHandle": {"dataType": "A", "id": "A-1", "name": "message", "output_types": ["Message"]},
            "targetHandle": {"fieldName": "input_value", "id": "B-2", "inputTypes": ["Message"], "type": "str"}}});
        assert_eq!(source_handle(&e).unwrap(), SourceHandle { node_id: "A-1".into(), output: "message".into() });
        assert_eq!(
            target_handle(&e).unwrap(),
            TargetHandle::Field { node_id: "B-2".into(), field: "input_value".into() }
        );
    }

    #[test]
    fn decodes_both_oe_spacings_and_loop_back() {
        let spaced = json!({"source": "A-1", "target": "L-2",
            "sourceHandle": "{œdataTypeœ: œAœ, œidœ: œA-1œ, œnameœ: œtext_outputœ, œoutput_typesœ: [œMessageœ]}",
            "targetHandle": "{œdataTypeœ: œLoopComponentœ, œidœ: œL-2œ, œnameœ: œitemœ, œoutput_typesœ: [œDataœ]}"});
        assert_eq!(source_handle(&spaced).unwrap().output, "text_output");
        assert_eq!(
            target_handle(&spaced).unwrap(),
            TargetHandle::LoopBack { node_id: "L-2".into(), output: "item".into() }
        );
        let compact = json!({"source": "A-1", "target": "B-2",
            "sourceHandle": "{œdataTypeœ:œAœ,œidœ:œA-1œ,œnameœ:œmessageœ,œoutput_typesœ:[œMessageœ]}",
            "targetHandle": "{œfieldNameœ:œquestionœ,œidœ:œB-2œ,œinputTypesœ:[œMessageœ],œtypeœ:œstrœ}"});
        assert_eq!(
            target_handle(&compact).unwrap(),
            TargetHandle::Field { node_id: "B-2".into(), field: "question".into() }
        );
        assert!(source_handle(&json!({"sourceHandle": "not json"})).is_none());
    }
}

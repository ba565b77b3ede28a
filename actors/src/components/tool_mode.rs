//! Tool mode, for every component: a vertex whose only consumed outputs are Tool-typed (its
//! `component_as_tool` "Toolset") is not run when the build reaches it; it yields the tools its
//! declaration derives ([`crate::catalog::tool_schema`]) as a [`Value::Tools`]. The Agent wraps
//! each as an [`agent::Tool`] ([`VertexTool`]) whose call runs that vertex's component with the
//! model's arguments on its tool-mode fields (every other field keeps its value), between
//! `build_start` and `build_end` events for the node, and hands the output to the model as
//! Langflow does (Message → text, Data → Data, DataFrame → a table with its columns in order).
//!
//! Nothing here knows any particular component: a new component is a tool as soon as it is
//! declared and implemented.

use std::sync::Arc;

use serde_json::{json, Value as Json};

use super::context::ToolScope;
use super::{ComponentContext, ComponentError, Inputs, Outputs, ToolSet, Value};
use crate::agent::{self, Table, ToolError, ToolFuture, ToolOutput};
use crate::catalog::{tool_schema, Output, ToolSchema};

/// Langflow's tool-mode output of every component.
pub(crate) const TOOLSET: Output = Output::new("component_as_tool", "Toolset", &["Tool"], "to_toolkit");

/// The outputs of a tool-mode vertex, or `None` when some consumed output is not a Tool (the
/// vertex then runs normally).
pub(crate) fn tool_outputs(ctx: &ComponentContext) -> Option<Outputs> {
    let v = ctx.vertex();
    let mut tool_outputs = v.outputs.iter().zip(&v.computed).filter(|(_, computed)| **computed).peekable();
    tool_outputs.peek()?;
    if !tool_outputs.all(|(o, _)| o.types.iter().any(|t| t == "Tool")) || v.out_edges.is_empty() {
        return None;
    }
    let set = ToolSet {
        vertex: ctx.vertex_index(),
        node_id: v.id.to_string(),
        display_name: v.display_name.clone(),
        tools: tool_schema(v.kind, ctx.params()),
    };
    Some(Outputs::one(&TOOLSET, Value::Tools(Arc::new(set))))
}

/// One tool of a vertex, callable by the agent of the same build.
pub(crate) struct VertexTool {
    ctx: ComponentContext,
    vertex: usize,
    node_id: String,
    schema: ToolSchema,
}

impl VertexTool {
    /// The agent tools of the sets on an Agent's `tools` input, with the nodes' `tools_metadata`
    /// applied and duplicate names disambiguated.
    pub(crate) fn from_sets<'a>(
        ctx: &ComponentContext,
        sets: impl Iterator<Item = &'a Value>,
    ) -> Vec<Arc<dyn agent::Tool>> {
        let mut nodes = Vec::new();
        for v in sets {
            let Value::Tools(set) = v else { continue };
            let tools: Vec<Arc<dyn agent::Tool>> = set
                .tools
                .iter()
                .map(|schema| {
                    Arc::new(VertexTool {
                        ctx: ctx.clone(),
                        vertex: set.vertex,
                        node_id: set.node_id.clone(),
                        schema: schema.clone(),
                    }) as Arc<dyn agent::Tool>
                })
                .collect();
            let params = ctx.params_of(set.vertex);
            let rows = params.get("tools_metadata").cloned().unwrap_or(Json::Null);
            let commands = params.get("commands").and_then(Json::as_str).map(str::to_owned);
            nodes.push((set.node_id.clone(), agent::prompt::apply_tools_metadata(tools, &rows, commands.as_deref())));
        }
        agent::prompt::disambiguate(nodes)
    }
}

/// A component output as the model reads it.
fn tool_output(value: &Value) -> ToolOutput {
    match value {
        Value::Message(m) => ToolOutput::Text(m.text.clone()),
        Value::Data(d) => ToolOutput::Data(d.data.clone()),
        Value::DataFrame(rows) => {
            let mut columns: Vec<String> = Vec::new();
            for r in rows.iter() {
                for k in r.keys() {
                    if !columns.contains(k) {
                        columns.push(k.clone());
                    }
                }
            }
            let rows = rows
                .iter()
                .map(|r| columns.iter().map(|c| r.get(c).cloned().unwrap_or(Json::Null)).collect())
                .collect();
            ToolOutput::Table(Table { columns, rows })
        }
        Value::Tools(_) => ToolOutput::Json(value.to_json()),
    }
}

impl agent::Tool for VertexTool {
    fn name(&self) -> &str {
        &self.schema.name
    }

    fn description(&self) -> &str {
        &self.schema.description
    }

    fn parameters(&self) -> &Json {
        &self.schema.parameters
    }

    fn call(&self, args: Json) -> ToolFuture<'_> {
        Box::pin(async move {
            let mut params = self.ctx.params_of(self.vertex).clone();
            let properties = self.schema.parameters.get("properties").and_then(Json::as_object);
            if let (Json::Object(args), Some(properties)) = (args, properties) {
                for (k, v) in args {
                    if properties.contains_key(&k) {
                        params.set(Arc::from(k.as_str()), v);
                    }
                }
            }
            let ctx = self.ctx.for_tool(self.vertex, ToolScope { params, output: self.schema.output });
            let started = json!({"id": self.node_id});
            ctx.emit("build_start", started.clone()).await.map_err(|e| ToolError::Failed(e.to_string()))?;
            let component = super::implementation(ctx.vertex().kind);
            let inputs = Inputs::new(self.vertex, Vec::new());
            let result = component.run(&ctx, &inputs).await;
            ctx.emit("build_end", started).await.map_err(|e| ToolError::Failed(e.to_string()))?;
            match result {
                Ok(out) => match out.get(self.schema.output) {
                    Some(v) => Ok(tool_output(v)),
                    None => Ok(ToolOutput::Text(String::new())),
                },
                Err(ComponentError::Failed(reason)) => Err(ToolError::Failed(reason)),
                Err(ComponentError::Cancelled) => Err(ToolError::Failed("Error: the tool was cancelled".into())),
            }
        })
    }
}
